"""The query bar's parser: relaxed Extended JSON and the mongo-shell forms people type.

JSON5 (unquoted keys, single quotes, comments, trailing commas) is parsed by the ``json5``
library. Before that, a small rewriting pass turns shell constructors (``ObjectId("…")``,
``ISODate("…")``, ``NumberLong(…)``, ``/re/i`` …) into Extended JSON wrappers, which
``bson.json_util``'s object-pairs hook turns into BSON values (key order kept). Every position in
an error is mapped back to the user's own text.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any

from studio_tui.services.errors import ValidationError

_OBJECT_FIELDS = ("filter", "projection", "sort")
_IDENT_START = re.compile(r"[A-Za-z_$]")
_IDENT = re.compile(r"[A-Za-z0-9_$]*")
_NUMBER = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|Infinity|NaN)")
_REGEX_FLAGS = set("imxsu")
# Characters after which a "/" starts a regular expression rather than being an error.
_VALUE_START = set(":[,(")


@dataclass(eq=False)
class QuerySyntaxError(ValidationError):
    """A query text that does not parse; ``line`` and ``column`` (1-based) are in the user's text."""

    line: int = 0
    column: int = 0
    field: str = ""


def _line_col(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _error(text: str, offset: int, what: str, message: str) -> QuerySyntaxError:
    line, column = _line_col(text, offset)
    where = f"line {line}, column {column}" if "\n" in text.strip() else f"column {column}"
    return QuerySyntaxError(
        detail=f"{what}: {message} at {where}",
        field_errors={what: f"{message} at {where}"},
        line=line, column=column, field=what,
    )


@dataclass
class _Rewritten:
    """The rewritten text and how to find, for a position in it, the user's position."""

    parts: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # output offset where each segment starts
    origins: list[int] = field(default_factory=list)  # original offset of each segment
    verbatim: list[bool] = field(default_factory=list)
    size: int = 0

    def add(self, piece: str, origin: int, verbatim: bool) -> None:
        if not piece:
            return
        self.starts.append(self.size)
        self.origins.append(origin)
        self.verbatim.append(verbatim)
        self.parts.append(piece)
        self.size += len(piece)

    def original(self, offset: int) -> int:
        index = bisect.bisect_right(self.starts, offset) - 1
        if index < 0:
            return 0
        if self.verbatim[index]:
            return self.origins[index] + (offset - self.starts[index])
        return self.origins[index]

    def text(self) -> str:
        return "".join(self.parts)


class _Rewriter:
    """One pass over the user's text, copying it verbatim except for shell constructors and
    regular expression literals, which become Extended JSON."""

    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.out = _Rewritten()
        self.pos = 0
        self.copied_from = 0
        self.last_significant = ""  # last non-blank, non-comment character seen

    def fail(self, offset: int, message: str) -> QuerySyntaxError:
        return _error(self.text, offset, self.what, message)

    def flush(self, upto: int) -> None:
        self.out.add(self.text[self.copied_from:upto], self.copied_from, True)
        self.copied_from = upto

    def emit(self, start: int, end: int, replacement: str) -> None:
        self.flush(start)
        self.out.add(replacement, start, False)
        self.copied_from = self.pos = end
        self.last_significant = "}"

    def run(self) -> _Rewritten:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in "\"'":
                self.pos = self.skip_string(self.pos)
                self.last_significant = char
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail(self.pos, "unterminated comment")
                self.pos = end + 2
            elif char == "/" and (self.last_significant in _VALUE_START or not self.last_significant):
                self.regex()
            elif _IDENT_START.match(char) and not self.in_identifier():
                self.identifier()
            else:
                if not char.isspace():
                    self.last_significant = char
                self.pos += 1
        self.flush(len(text))
        return self.out

    def in_identifier(self) -> bool:
        return self.pos > 0 and (self.text[self.pos - 1].isalnum() or self.text[self.pos - 1] in "_$.")

    def skip_string(self, start: int) -> int:
        quote, pos, text = self.text[start], start + 1, self.text
        while pos < len(text):
            if text[pos] == "\\":
                pos += 2
            elif text[pos] == quote:
                return pos + 1
            elif text[pos] == "\n":
                break
            else:
                pos += 1
        raise self.fail(start, "unterminated string")

    def skip_blanks(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos].isspace():
            pos += 1
        return pos

    def regex(self) -> None:
        start, pos, text, in_class = self.pos, self.pos + 1, self.text, False
        while pos < len(text):
            char = text[pos]
            if char == "\\":
                pos += 2
                continue
            if char == "\n":
                break
            if char == "[":
                in_class = True
            elif char == "]":
                in_class = False
            elif char == "/" and not in_class:
                break
            pos += 1
        if pos >= len(text) or text[pos] != "/":
            raise self.fail(start, "unterminated regular expression")
        pattern = text[start + 1:pos]
        flags_match = _IDENT.match(text, pos + 1)
        flags = flags_match.group()
        bad = [flag for flag in flags if flag not in _REGEX_FLAGS]
        if bad:
            raise self.fail(pos + 1 + flags.index(bad[0]), f"unknown regular expression flag {bad[0]!r}")
        if not pattern:
            raise self.fail(start, "empty regular expression")
        wrapped = {"$regularExpression": {"pattern": pattern, "options": "".join(sorted(flags))}}
        self.emit(start, flags_match.end(), json.dumps(wrapped))

    def identifier(self) -> None:
        start = self.pos
        name = _IDENT.match(self.text, start).group()
        after = self.skip_blanks(start + len(name))
        if name == "new":
            inner = _IDENT.match(self.text, after).group()
            if inner in ("Date", "ISODate"):
                name, after = inner, self.skip_blanks(after + len(inner))
                if after >= len(self.text) or self.text[after] != "(":
                    raise self.fail(after, f"expected ( after new {inner}")
        following = self.text[after] if after < len(self.text) else ""
        builder = _CONSTRUCTORS.get(name)
        if builder is None or following == ":":
            self.pos = start + len(_IDENT.match(self.text, start).group())
            self.last_significant = name[-1]
            return
        if following != "(":
            if name in ("MinKey", "MaxKey"):
                self.emit(start, start + len(name), json.dumps({f"${name[0].lower()}{name[1:]}": 1}))
                return
            self.pos = start + len(name)
            self.last_significant = name[-1]
            return
        args, end = self.arguments(after)
        self.emit(start, end, json.dumps(builder(self, name, args, start)))

    def arguments(self, open_paren: int) -> tuple[list[tuple[Any, int]], int]:
        """The literal arguments of a constructor call: (value, offset) pairs, and the offset
        just past its closing parenthesis."""
        args: list[tuple[Any, int]] = []
        pos = self.skip_blanks(open_paren + 1)
        text = self.text
        while True:
            if pos >= len(text):
                raise self.fail(open_paren, "missing )")
            if text[pos] == ")" and not args:
                return args, pos + 1
            if text[pos] in "\"'":
                end = self.skip_string(pos)
                literal = text[pos:end]
                try:
                    import json5

                    value = json5.loads(literal)
                except ValueError:
                    raise self.fail(pos, "bad string") from None
            else:
                number = _NUMBER.match(text, pos)
                if not number:
                    raise self.fail(pos, "expected a string or a number")
                end, literal = number.end(), number.group()
                try:
                    import json5

                    value = json5.loads(literal)
                except ValueError:
                    raise self.fail(pos, "bad number") from None
            args.append((value, pos))
            pos = self.skip_blanks(end)
            if pos < len(text) and text[pos] == ",":
                pos = self.skip_blanks(pos + 1)
                continue
            if pos < len(text) and text[pos] == ")":
                return args, pos + 1
            raise self.fail(pos, "expected , or )")


def _one_arg(rewriter: _Rewriter, name: str, args, start: int, kinds: tuple[type, ...]):
    if len(args) != 1:
        raise rewriter.fail(start, f"{name}() takes one argument")
    value, offset = args[0]
    if isinstance(value, bool) or not isinstance(value, kinds):
        wanted = " or ".join("a string" if k is str else "a number" for k in kinds)
        raise rewriter.fail(offset, f"{name}() needs {wanted}")
    return value, offset


def _object_id(rewriter, name, args, start):
    if not args:
        raise rewriter.fail(start, "ObjectId() needs its 24 hex digits here")
    value, offset = _one_arg(rewriter, name, args, start, (str,))
    if not re.fullmatch(r"[0-9a-fA-F]{24}", value):
        raise rewriter.fail(offset, "ObjectId needs 24 hex digits")
    return {"$oid": value.lower()}


def _date(rewriter, name, args, start):
    if not args:
        raise rewriter.fail(start, f"{name}() needs a date here (the current time is not taken)")
    value, offset = _one_arg(rewriter, name, args, start, (str, int, float))
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError:
            raise rewriter.fail(offset, f"not an ISO-8601 date: {value!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        delta = moment - epoch
        millis = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    else:
        millis = int(value)
    return {"$date": {"$numberLong": str(millis)}}


def _integer(rewriter, name, args, start, bits: int):
    value, offset = _one_arg(rewriter, name, args, start, (str, int, float))
    try:
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
    except ValueError:
        number = None
    if number is None:
        raise rewriter.fail(offset, f"{name}() needs a whole number")
    if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        raise rewriter.fail(offset, f"{name}() out of range for a {bits}-bit integer")
    return {"$numberLong" if bits == 64 else "$numberInt": str(number)}


def _decimal(rewriter, name, args, start):
    value, offset = _one_arg(rewriter, name, args, start, (str, int, float))
    from decimal import Decimal, InvalidOperation

    try:
        Decimal(str(value))
    except InvalidOperation:
        raise rewriter.fail(offset, f"not a decimal number: {value!r}") from None
    return {"$numberDecimal": str(value)}


def _timestamp(rewriter, name, args, start):
    if len(args) != 2:
        raise rewriter.fail(start, "Timestamp() takes two numbers: seconds and increment")
    for value, offset in args:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
            raise rewriter.fail(offset, "Timestamp() parts are whole numbers from 0 to 2^32-1")
    return {"$timestamp": {"t": args[0][0], "i": args[1][0]}}


def _bin_data(rewriter, name, args, start):
    if len(args) != 2:
        raise rewriter.fail(start, "BinData() takes a subtype and a base64 string")
    (subtype, sub_at), (data, data_at) = args
    if isinstance(subtype, bool) or not isinstance(subtype, int) or not 0 <= subtype <= 255:
        raise rewriter.fail(sub_at, "BinData() subtype is a number from 0 to 255")
    if not isinstance(data, str):
        raise rewriter.fail(data_at, "BinData() data is a base64 string")
    import base64
    import binascii

    try:
        base64.b64decode(data, validate=True)
    except binascii.Error:
        raise rewriter.fail(data_at, "not valid base64") from None
    return {"$binary": {"base64": data, "subType": f"{subtype:02x}"}}


def _uuid(rewriter, name, args, start):
    value, offset = _one_arg(rewriter, name, args, start, (str,))
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        raise rewriter.fail(offset, f"not a UUID: {value!r}") from None
    return {"$uuid": value}


def _min_max(rewriter, name, args, start):
    if args:
        raise rewriter.fail(start, f"{name}() takes no arguments")
    return {f"${name[0].lower()}{name[1:]}": 1}


_CONSTRUCTORS = {
    "ObjectId": _object_id,
    "ISODate": _date,
    "Date": _date,
    "NumberLong": partial(_integer, bits=64),
    "NumberInt": partial(_integer, bits=32),
    "NumberDecimal": _decimal,
    "Decimal128": _decimal,
    "Timestamp": _timestamp,
    "BinData": _bin_data,
    "UUID": _uuid,
    "MinKey": _min_max,
    "MaxKey": _min_max,
}

_JSON5_POSITION = re.compile(r"<string>:(\d+) (.*) at column (\d+)")


def _object_pairs_hook():
    from bson import json_util
    from bson.binary import UuidRepresentation

    options = json_util.JSONOptions(
        json_mode=json_util.JSONMode.RELAXED,
        tz_aware=True,
        uuid_representation=UuidRepresentation.UNSPECIFIED,
        document_class=dict,
    )
    return partial(json_util.object_pairs_hook, json_options=options)


def _offset_of(text: str, line: int, column: int) -> int:
    offset = 0
    for _ in range(line - 1):
        newline = text.find("\n", offset)
        if newline < 0:
            break
        offset = newline + 1
    return offset + column - 1


def parse_query(text: str, what: str = "filter") -> Any:
    """Parse the query bar's text into BSON-ready Python values. Empty text is ``{}``.

    ``what`` names the field in errors ("filter", "projection", "sort", "update", "stage 2").
    """
    if not text.strip():
        return {}
    import json5

    rewritten = _Rewriter(text, what).run()
    source = rewritten.text()
    try:
        value = json5.loads(source, object_pairs_hook=_object_pairs_hook())
    except (TypeError, ValueError, OverflowError) as err:
        message = str(err)
        found = _JSON5_POSITION.match(message)
        if found:
            line, problem, column = int(found.group(1)), found.group(2), int(found.group(3))
            origin = rewritten.original(_offset_of(source, line, column))
            raise _error(text, origin, what, _explain(problem)) from None
        # A bad Extended JSON wrapper ({"$oid": 5}, …): no position from the hook.
        raise QuerySyntaxError(
            detail=f"{what}: {message}", field_errors={what: message}, field=what
        ) from None
    if what in _OBJECT_FIELDS and not isinstance(value, dict):
        raise _error(text, len(text) - len(text.lstrip()), what, "must be an object like {field: value}")
    return value


def _explain(problem: str) -> str:
    """json5's wording, made a little friendlier: 'Unexpected "x"' stays, end of input is named."""
    if problem.startswith("Unexpected end of input"):
        return "unexpected end of text (a missing } or ]?)"
    return problem[0].lower() + problem[1:]


def _whole_number(text: str, what: str) -> int:
    text = text.strip()
    if not text:
        return 0
    if not text.isdigit():
        raise QuerySyntaxError(detail=f"{what}: a whole number of documents, 0 or more",
                               field_errors={what: "a whole number"}, field=what)
    return int(text)


def parse_find(filter_text: str = "", projection: str = "", sort: str = "", skip: str = "",
               limit: str = ""):
    """The query bar's fields as a ``FindQuery``; errors name the field and point into it."""
    from studio_tui.services.mongo.models import FindQuery

    sort_value = parse_query(sort, "sort") or None
    for name, direction in (sort_value or {}).items():
        if direction not in (1, -1) and not (isinstance(direction, dict) and "$meta" in direction):
            raise QuerySyntaxError(detail=f"sort: {name} must be 1 (ascending) or -1 (descending)",
                                   field_errors={"sort": "1 or -1"}, field="sort")
    return FindQuery(filter=parse_query(filter_text, "filter"),
                     projection=parse_query(projection, "projection") or None,
                     sort=sort_value, skip=_whole_number(skip, "skip"),
                     limit=_whole_number(limit, "limit"))
