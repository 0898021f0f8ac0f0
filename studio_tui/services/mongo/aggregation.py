"""Aggregation pipelines as a list of stages the user edits one at a time (text in the query
bar's syntax; a stage can be turned off), previews of the documents after any stage, running
the whole pipeline, and pipelines saved per collection in the data directory.

`$out` and `$merge` write, so a pipeline ending in one runs as a write (refused on read-only
entries, and audited); previews never include them."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from studio_tui.services.errors import NotFoundError, ValidationError
from studio_tui.services.mongo.query import parse_query
from studio_tui.services.mongo.scope import MongoScope

WRITE_STAGES = ("$out", "$merge")
DEFAULT_PREVIEW = 20
MAX_PREVIEW = 1000


@dataclass(slots=True)
class Stage:
    text: str
    enabled: bool = True

    @property
    def operator(self) -> str:
        """The stage's name ($match…) as far as it can be read without parsing; "" if unknown."""
        text = self.text.lstrip().lstrip("{").lstrip()
        for quote_mark in ("\"", "'"):
            text = text.removeprefix(quote_mark)
        name = text.split(":", 1)[0].strip().strip("\"'")
        return name if name.startswith("$") else ""


@dataclass(slots=True)
class Pipeline:
    stages: list[Stage] = field(default_factory=list)

    def parsed(self, upto: int | None = None) -> list[dict]:
        """The enabled stages (up to and including index ``upto``), parsed; a stage that does
        not parse raises ValidationError naming it ("stage 2: … at column 7")."""
        result = []
        last = len(self.stages) - 1 if upto is None else upto
        for number, stage in enumerate(self.stages[: last + 1], start=1):
            if stage.enabled:
                result.append(parse_stage(stage.text, number))
        return result

    def to_json(self) -> list[dict]:
        return [{"text": s.text, "enabled": s.enabled} for s in self.stages]

    @classmethod
    def from_json(cls, data: Any) -> "Pipeline":
        if not isinstance(data, list):
            raise ValidationError("A saved pipeline is a list of stages.")
        return cls([Stage(str(item.get("text", "")), bool(item.get("enabled", True)))
                    for item in data if isinstance(item, dict)])


def parse_stage(text: str, number: int = 1) -> dict:
    what = f"stage {number}"
    value = parse_query(text, what)
    if not isinstance(value, dict) or len(value) != 1 or not next(iter(value), "").startswith("$"):
        raise ValidationError(f"{what}: a stage is one operator, like {{$match: {{…}}}}.",
                              field_errors={what: "one $operator"})
    return value


def writes(pipeline: list[dict]) -> bool:
    return any(name in stage for stage in pipeline for name in WRITE_STAGES)


def _check_write_position(pipeline: list[dict]) -> None:
    for position, stage in enumerate(pipeline):
        if any(name in stage for name in WRITE_STAGES) and position != len(pipeline) - 1:
            name = next(name for name in WRITE_STAGES if name in stage)
            raise ValidationError(f"{name} must be the last stage of the pipeline.")


@dataclass(frozen=True, slots=True)
class AggregateResult:
    documents: list[dict]
    more: bool  # the pipeline had more documents than were fetched
    wrote: bool = False  # $out/$merge ran
    stages: int = 0


async def preview(scope: MongoScope, pipeline: Pipeline, upto: int | None = None,
                  limit: int = DEFAULT_PREVIEW) -> AggregateResult:
    """The first ``limit`` documents coming out of stage ``upto`` (every enabled stage when
    None). A write stage is left out: a preview never writes."""
    if not 1 <= limit <= MAX_PREVIEW:
        raise ValidationError(f"A preview shows 1 to {MAX_PREVIEW} documents.",
                              field_errors={"limit": "1 to 1000"})
    stages = [stage for stage in pipeline.parsed(upto)
              if not any(name in stage for name in WRITE_STAGES)]

    async def read(client) -> list[dict]:
        cursor = await scope.coll(client).aggregate([*stages, {"$limit": limit + 1}],
                                                    batchSize=limit + 1)
        return await cursor.to_list(length=limit + 1)

    documents = await scope.run(f"aggregate preview {scope.namespace}", read, long=True)
    return AggregateResult(documents[:limit], len(documents) > limit, stages=len(stages))


async def run_pipeline(scope: MongoScope, pipeline: Pipeline,
                       limit: int = DEFAULT_PREVIEW) -> AggregateResult:
    """The whole pipeline (enabled stages): the first ``limit`` documents, the rest left on the
    server (the cursor is closed). Ending in $out or $merge it is a write."""
    stages = pipeline.parsed()
    if not stages:
        raise ValidationError("The pipeline has no enabled stage.")
    _check_write_position(stages)
    wrote = writes(stages)

    async def read(client) -> list[dict]:
        cursor = await scope.coll(client).aggregate(stages, batchSize=limit + 1)
        try:
            return await cursor.to_list(length=limit + 1)
        finally:
            await cursor.close()

    documents = await scope.run(f"aggregate {scope.namespace}", read, write=wrote, long=True)
    return AggregateResult(documents[:limit], len(documents) > limit, wrote, len(stages))


# -- saved pipelines ------------------------------------------------------------------------------
class PipelineStore:
    """Named pipelines of one collection of one entry, in one JSON file under
    ``data_dir/mongo-pipelines/<entry id>/``."""

    def __init__(self, data_dir: Path, database_id: str, database: str, collection: str) -> None:
        folder = data_dir / "mongo-pipelines" / quote(database_id, safe="")
        self.path = folder / f"{quote(database, safe='')}.{quote(collection, safe='')}.json"

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ValidationError(f"The saved pipelines in {self.path} cannot be read: {exc}.") \
                from None
        return data if isinstance(data, dict) else {}

    def names(self) -> list[str]:
        return sorted(self._read())

    def load(self, name: str) -> Pipeline:
        data = self._read()
        if name not in data:
            raise NotFoundError(f"No saved pipeline {name!r}.")
        return Pipeline.from_json(data[name])

    def save(self, name: str, pipeline: Pipeline) -> None:
        name = name.strip()
        if not name:
            raise ValidationError("Give the pipeline a name.", field_errors={"name": "required"})
        data = self._read()
        data[name] = pipeline.to_json()
        self._write(data)

    def delete(self, name: str) -> None:
        data = self._read()
        if data.pop(name, None) is None:
            raise NotFoundError(f"No saved pipeline {name!r}.")
        self._write(data)

    def _write(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole, then renamed: a crash never leaves half a file.
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, ensure_ascii=False)
        os.replace(temporary, self.path)
