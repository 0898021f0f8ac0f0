"""Export a collection, or a query's result, to JSON Lines (canonical Extended JSON: every BSON
type comes back as it was) or CSV (chosen columns; nested values as JSON); import JSON Lines or a
JSON array. Both stream batch by batch, each batch one call through the manager, so memory
stays flat on any size, progress is reported after each batch, and a cancel stops at once (the
server's cursor is closed; a partial export file is removed). An import keeps going past bad
lines and reports each with its line number."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from studio_tui.services.errors import ValidationError
from studio_tui.services.mongo.ejson import type_name
from studio_tui.services.mongo.scope import MongoScope

BATCH = 400  # documents per round trip: small enough that decoding one batch stays under ~10 ms
ENCODE_SLICE = 100  # documents encoded between two yields to the event loop (~6 ms of work)
MAX_REJECTS_KEPT = 1000  # rejected lines described in full; the rest are only counted
MAX_ELEMENT = 16 * 2**20 + 2**20  # a BSON document is at most 16 MB; its JSON a little more
FORMATS = ("jsonl", "csv")


@dataclass(slots=True)
class Progress:
    """How far a transfer is. ``total`` (documents for an export, bytes for an import) is None
    when not known in advance."""

    done: int = 0
    total: int | None = None
    rejected: int = 0
    bytes: int = 0
    finished: bool = False
    path: str = ""
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (line, why), the first ones

    total_is_bytes: bool = False  # an import counts the file's bytes read

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, (self.bytes if self.total_is_bytes else self.done) / self.total)


@dataclass(frozen=True, slots=True)
class _Rejected:
    why: str


def _expand(text: str) -> Path:
    if not text.strip():
        raise ValidationError("Give a file path.", field_errors={"path": "required"})
    return Path(os.path.expandvars(text.strip())).expanduser()


def check_export_path(text: str, *, overwrite: bool = False) -> Path:
    """The file an export may write: its folder exists and is writable; an existing file is
    replaced only when ``overwrite``."""
    path = _expand(text)
    if path.is_dir():
        raise ValidationError(f"{path} is a folder; give a file name in it.",
                              field_errors={"path": "a folder"})
    folder = path.parent
    if not folder.is_dir():
        raise ValidationError(f"The folder {folder} does not exist.",
                              field_errors={"path": "no such folder"})
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValidationError(f"The folder {folder} is not writable.",
                              field_errors={"path": "not writable"})
    if path.exists() and not overwrite:
        raise ValidationError(f"{path} already exists.", field_errors={"path": "exists"})
    if path.exists() and not os.access(path, os.W_OK):
        raise ValidationError(f"{path} is not writable.", field_errors={"path": "not writable"})
    return path


def check_import_path(text: str) -> Path:
    path = _expand(text)
    if not path.exists():
        raise ValidationError(f"{path} does not exist.", field_errors={"path": "no such file"})
    if not path.is_file():
        raise ValidationError(f"{path} is not a file.", field_errors={"path": "not a file"})
    if not os.access(path, os.R_OK):
        raise ValidationError(f"{path} is not readable.", field_errors={"path": "not readable"})
    return path


# -- export -----------------------------------------------------------------------------------
def split_column(text: str) -> tuple[str, ...]:
    """A typed column path (dotted); paths from the schema sample are tuples already."""
    return tuple(part for part in text.strip().split(".") if part)


def column_value(document: Any, path: Sequence[str]) -> Any:
    value = document
    for name in path:
        if isinstance(value, dict):
            if name not in value:
                return None
            value = value[name]
        elif isinstance(value, list) and name.isdigit() and int(name) < len(value):
            value = value[int(name)]
        else:
            return None
    return value


def csv_cell(value: Any) -> str:
    """A value as CSV text: scalars as themselves, dates in ISO 8601, ids as hex, documents and
    arrays as relaxed Extended JSON."""
    import datetime as dt

    from bson import ObjectId, json_util

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float, ObjectId)):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    text = json_util.dumps(value, json_options=json_util.RELAXED_JSON_OPTIONS)
    if isinstance(value, (dict, list)):
        return text
    # Other BSON scalars (Decimal128, Binary, Timestamp…): their Extended JSON value.
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    if isinstance(decoded, dict) and len(decoded) == 1:
        inner = next(iter(decoded.values()))
        return inner if isinstance(inner, str) else json.dumps(inner)
    return text


class _Writer:
    def __init__(self, stream: IO[str], fmt: str, columns: Sequence[tuple[str, ...]]) -> None:
        from bson import json_util

        self.stream = stream
        self.fmt = fmt
        self.columns = list(columns)
        self.options = json_util.CANONICAL_JSON_OPTIONS
        self.dumps = json_util.dumps
        self.csv = csv.writer(stream, lineterminator="\n") if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writerow([".".join(path) for path in self.columns])

    def write(self, documents: Sequence[dict]) -> None:
        if self.csv is not None:
            self.csv.writerows([csv_cell(column_value(doc, path)) for path in self.columns]
                               for doc in documents)
        else:
            dumps, options = self.dumps, self.options
            self.stream.write("".join(dumps(doc, json_options=options) + "\n"
                                      for doc in documents))


def _find_arguments(query: Any) -> dict[str, Any]:
    """A FindQuery as find() keywords (None: the whole collection)."""
    if query is None:
        return {"filter": {}}
    arguments: dict[str, Any] = {"filter": getattr(query, "filter", None) or {}}
    for name in ("projection", "sort"):
        value = getattr(query, name, None)
        if value:
            arguments[name] = list(value.items()) if name == "sort" and isinstance(value, dict) \
                else value
    for name in ("skip", "limit"):
        value = getattr(query, name, None)
        if value:
            arguments[name] = int(value)
    return arguments


async def export_documents(scope: MongoScope, destination: str, *, fmt: str = "jsonl",
                           query: Any = None, columns: Sequence[tuple[str, ...]] = (),
                           overwrite: bool = False, batch: int = BATCH) -> AsyncIterator[Progress]:
    """Write the collection (or ``query``'s result) to ``destination``, yielding progress
    after every batch. The file is written under a ``.part`` name and renamed at the end, so a
    failed or cancelled export leaves no half file behind. Iterate it inside
    ``contextlib.aclosing`` so that stopping early closes the server's cursor at once."""
    if fmt not in FORMATS:
        raise ValidationError(f"Unknown format {fmt!r}: jsonl or csv.", field_errors={"format": fmt})
    if fmt == "csv" and not columns:
        raise ValidationError("Choose at least one column for CSV.",
                              field_errors={"columns": "none chosen"})
    path = check_export_path(destination, overwrite=overwrite)
    arguments = _find_arguments(query)
    progress = Progress(path=str(path))

    async def count(client) -> int | None:
        if arguments["filter"] or "limit" in arguments or "skip" in arguments:
            return None  # counting a filter costs as much as the export itself
        return int(await scope.coll(client).estimated_document_count())

    async def open_cursor(client):
        return scope.coll(client).find(batch_size=batch, **arguments)

    progress.total = await scope.run(f"estimatedDocumentCount {scope.namespace}", count)
    cursor = await scope.run(f"find {scope.namespace}", open_cursor)

    async def next_batch(client) -> list[dict]:
        return await cursor.to_list(length=batch)

    part = path.with_name(path.name + ".part")
    finished = False
    try:
        with part.open("w", encoding="utf-8", newline="") as stream:
            writer = _Writer(stream, fmt, columns)
            yield progress
            while True:
                # Long work the user started: a selective filter may scan a while per batch.
                documents = await scope.run(f"export {scope.namespace}", next_batch, long=True)
                if not documents:
                    break
                for start in range(0, len(documents), ENCODE_SLICE):
                    writer.write(documents[start:start + ENCODE_SLICE])
                    await asyncio.sleep(0)  # encoding is CPU work: let the UI breathe
                progress.done += len(documents)
                progress.bytes = stream.tell()
                yield progress
                if not cursor.alive:
                    break
        part.replace(path)
        finished = True
    finally:
        if not finished:
            with contextlib.suppress(OSError):
                part.unlink()
        if cursor.alive:
            with contextlib.suppress(Exception):
                await scope.run(f"killCursors {scope.namespace}", lambda client: cursor.close())
    progress.finished = True
    yield progress


# -- import -----------------------------------------------------------------------------------
def _decoder() -> json.JSONDecoder:
    from functools import partial

    from bson import json_util

    return json.JSONDecoder(object_pairs_hook=partial(
        json_util.object_pairs_hook, json_options=json_util.DEFAULT_JSON_OPTIONS))


def _first_character(path: Path) -> str:
    with path.open("rb") as stream:
        while chunk := stream.read(4096):
            text = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")
            if text:
                return chr(text[0])
    return ""


def _lines(stream: IO[bytes], decoder: json.JSONDecoder) -> Iterator[tuple[int, Any, int]]:
    """(line number, document or the reason it was rejected, bytes read so far)."""
    read = 0
    for number, raw in enumerate(stream, start=1):
        read += len(raw)
        line = raw.strip()
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line:
            continue
        try:
            value = decoder.decode(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield number, _Rejected(f"not UTF-8 ({exc.reason} at byte {exc.start + 1})"), read
            continue
        except Exception as exc:  # noqa: BLE001 - JSON, or Extended JSON (bson's own errors)
            yield number, _Rejected(_reason(exc)), read
            continue
        yield number, value, read


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON: {exc.msg} at column {exc.colno}"
    return f"not Extended JSON: {exc}"


def _array(stream: IO[bytes], decoder: json.JSONDecoder) -> Iterator[tuple[int, Any, int]]:
    """The elements of one JSON array, read a chunk at a time (never the whole file): (line
    the element starts on, element or why it was rejected, bytes read). A syntax error ends the
    array (there is no telling where the next element would start); it is reported too."""
    import codecs

    text = codecs.getincrementaldecoder("utf-8")("replace")  # a character may span two chunks
    buffer, position, line, read = "", 0, 1, 0
    eof = False

    def more() -> bool:
        nonlocal buffer, position, read, eof
        chunk = stream.read(1 << 20)
        if not chunk:
            eof = True
            return False
        read += len(chunk)
        buffer = buffer[position:] + text.decode(chunk)
        position = 0
        return True

    def skip(characters: str) -> None:
        nonlocal position, line
        while True:
            while position < len(buffer) and buffer[position] in characters:
                if buffer[position] == "\n":
                    line += 1
                position += 1
            if position < len(buffer) or not more():
                return

    more()
    if buffer.startswith("\ufeff"):
        position = 1
    skip(" \t\r\n")
    if buffer[position:position + 1] != "[":
        yield line, _Rejected("not a JSON array"), read
        return
    position += 1
    while True:
        skip(" \t\r\n,")
        if position >= len(buffer):
            yield line, _Rejected("the array is not closed with ]"), read
            return
        if buffer[position] == "]":
            return
        while True:
            try:
                value, end = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError as exc:
                if not eof and len(buffer) - position < MAX_ELEMENT and more():
                    continue  # the element goes on in the next chunk
                yield line + buffer.count("\n", position, exc.pos), _Rejected(
                    f"not JSON: {exc.msg}; the rest of the array was not read"), read
                return
            except Exception as exc:  # noqa: BLE001 - bson's errors for bad Extended JSON
                # Valid JSON but not valid Extended JSON: find its end, then go on.
                end = _skip_value(buffer, position)
                if end is None and not eof and more():
                    continue
                if end is None:
                    yield line, _Rejected(_reason(exc)), read
                    return
                value = _Rejected(_reason(exc))
            break
        start_line = line
        line += buffer.count("\n", position, end)
        position = end
        yield start_line, value, read


def _skip_value(buffer: str, position: int) -> int | None:
    try:
        _, end = json.JSONDecoder().raw_decode(buffer, position)
    except json.JSONDecodeError:
        return None
    return end


async def import_documents(scope: MongoScope, source: str, *,
                           batch: int = BATCH) -> AsyncIterator[Progress]:
    """Insert the documents of a JSON Lines file or a JSON array (Extended JSON, canonical or
    relaxed) in batches (unordered, so one duplicate does not stop the rest). Rejected lines,
    and documents the server refused, are counted with their line numbers. A write: refused on
    read-only entries before the file is read."""
    path = check_import_path(source)

    async def allowed(client) -> None:
        return None

    await scope.run(f"import into {scope.namespace}", allowed, write=True)
    progress = Progress(path=str(path), total=path.stat().st_size, total_is_bytes=True)
    decoder = _decoder()
    is_array = _first_character(path) == "["

    def reject(line: int, why: str) -> None:
        progress.rejected += 1
        if len(progress.rejects) < MAX_REJECTS_KEPT:
            progress.rejects.append((line, why))

    async def insert(documents: list[dict], lines: list[int]) -> None:
        async def write(client) -> list[tuple[int, str]]:
            from pymongo.errors import BulkWriteError

            try:
                await scope.coll(client).insert_many(documents, ordered=False)
            except BulkWriteError as exc:
                return [(int(error.get("index", 0)), str(error.get("errmsg", "refused")))
                        for error in exc.details.get("writeErrors", ())]
            return []

        refused = await scope.run(f"insert into {scope.namespace}", write, write=True)
        for index, why in refused:
            reject(lines[index], f"refused by the server: {why}")
        progress.done += len(documents) - len(refused)

    yield progress
    with path.open("rb") as stream:
        elements = _array(stream, decoder) if is_array else _lines(stream, decoder)
        documents: list[dict] = []
        lines: list[int] = []
        for count, (line, value, read) in enumerate(elements, start=1):
            if isinstance(value, _Rejected):
                reject(line, value.why)
            elif not isinstance(value, dict):
                reject(line, f"not a document but a value of type {type_name(value)}")
            else:
                documents.append(value)
                lines.append(line)
            progress.bytes = read
            if len(documents) >= batch:
                await insert(documents, lines)
                documents, lines = [], []
                yield progress
            elif count % ENCODE_SLICE == 0:
                await asyncio.sleep(0)  # parsing is CPU work: let the UI breathe
        if documents:
            await insert(documents, lines)
    progress.bytes = progress.total or progress.bytes
    progress.finished = True
    yield progress
