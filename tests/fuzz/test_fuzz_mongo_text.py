"""Bad input, MongoDB text: the query bar (``parse_query`` / ``parse_find``), the document
editor's Extended JSON (``to_editor_text`` / ``from_editor_text`` / ``from_editor_many``), the
field editor (``value_text`` → ``parse_query``), aggregation stages (``parse_stage``) and field
names with '.', '$' or nothing (``field_name``, ``field_path``, ``dotted_path``).

Property: text is parsed or refused with a ValidationError that names the field; a document
written out and read back is the same BSON, byte for byte, whatever its types and names."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from bson import Binary, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from hypothesis import example, given
from hypothesis import strategies as st

from fuzz_checks import assert_specific, fuzz_settings
from studio_tui.services.errors import ValidationError
from studio_tui.services.mongo.aggregation import parse_stage
from studio_tui.services.mongo.ejson import (
    bson_bytes,
    check_editable,
    dotted_path,
    editor_ambiguity,
    field_name,
    field_path,
    from_editor_many,
    from_editor_text,
    same_document,
    to_editor_text,
    value_text,
)
from studio_tui.services.mongo.query import parse_find, parse_query

# Field names as users (and other tools) store them: dots, dollars, empty, unicode, controls.
NAMES = st.sampled_from(["", ".", "$", "a.b", "$x", "_id", "x y", "ключ", "\x00", "\n", "\"", "\\",
                         "\x7f", "\u2028"]) | st.text(max_size=8)
# A (sub-)document holding a name Extended JSON reads as a type ({"$oid": …}) has no text that
# reads back as itself: the editor refuses it (test_the_editor_opens_only_documents_it_gives_
# back_unchanged); the round-trip targets generate the rest.
_EJSON_WRAPPERS = {"$oid", "$date", "$numberLong", "$numberInt", "$numberDouble", "$numberDecimal",
                   "$binary", "$uuid", "$regex", "$regularExpression", "$timestamp", "$minKey",
                   "$maxKey", "$code", "$scope", "$symbol", "$dbPointer", "$ref", "$id", "$db",
                   "$undefined", "$options", "$type"}
DOC_NAMES = NAMES.filter(lambda n: "\x00" not in n and n not in _EJSON_WRAPPERS)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.text(max_size=20),
    st.integers(-(2**31), 2**31 - 1), st.integers(-(2**63), 2**63 - 1).map(Int64),
    # NaN's sign and payload bits do not survive "NaN" in text (nor do they mean anything).
    st.floats(allow_nan=False) | st.just(float("nan")),
    st.builds(ObjectId, st.binary(min_size=12, max_size=12)),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                 timezones=st.just(timezone.utc)).map(
        lambda moment: moment - timedelta(microseconds=moment.microsecond % 1000)),
    st.builds(lambda digits, exponent: Decimal128(f"{digits}E{exponent}"),
              st.integers(-(10**34) + 1, 10**34 - 1), st.integers(-6176, 6111))
    | st.sampled_from([Decimal128("NaN"), Decimal128("-Infinity"), Decimal128("-0")]),
    st.builds(Binary, st.binary(max_size=24), st.sampled_from([0, 2, 3, 4, 5, 128])),
    st.builds(Regex, st.text(max_size=8).filter(lambda p: "\x00" not in p),
              st.sampled_from(["", "i", "imsx"])),
    st.builds(Timestamp, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    st.just(MinKey()), st.just(MaxKey()),
)


def _uuid_binary(value):  # subtype 3/4 Binaries must be 16 bytes for the UUID path
    if isinstance(value, Binary) and value.subtype in (3, 4) and len(value) != 16:
        return Binary(bytes(value), 0)
    return value


VALUES = st.recursive(SCALARS.map(_uuid_binary),
                      lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(DOC_NAMES, inner, max_size=4),
                      max_leaves=12)
DOCUMENTS = st.dictionaries(DOC_NAMES, VALUES, max_size=6)

# Text in the query bar's own alphabet: brackets, quotes, shell constructors, numbers, regexes.
QUERY_TOKENS = st.sampled_from([
    "{", "}", "[", "]", ":", ",", "'", '"', "$", ".", "/", "\\", " ", "\n", "-", "+", "e", "1",
    "0x", "Infinity", "NaN", "null", "true", "ObjectId(", "ISODate(", "NumberLong(", "NumberInt(",
    "NumberDecimal(", "Timestamp(", "BinData(", "UUID(", "MinKey", "MaxKey(", "new Date(", ")",
    "/a.*/i", "//", "/*", "*/", "$oid", "$date", "$numberLong", "$regex", "a", "_id", "ü", "\x00",
    "'507f1f77bcf86cd799439011'", "\"2024-01-31\"", "99999999999999999999", "1e400", "-0",
])
QUERY_TEXT = st.lists(QUERY_TOKENS, max_size=24).map("".join) | st.text(max_size=40)


def _refused(error: BaseException, field: str) -> None:
    assert_specific(error)
    assert field in error.detail or field in error.field_errors, error


@fuzz_settings(ci=400)
@given(QUERY_TEXT, st.sampled_from(["filter", "projection", "sort", "update", "stage 2"]))
@example("{a: ObjectId(5)}", "filter")
@example("{a: NumberLong('x')}", "filter")
@example("{a: 1e400}", "filter")
@example("{$date: 1}", "filter")
def test_query_bar_text_is_parsed_or_refused_by_field(text: str, what: str) -> None:
    try:
        value = parse_query(text, what)
    except Exception as error:  # noqa: BLE001 - the property: nothing but a StudioError
        _refused(error, what)
        return
    if what in ("filter", "projection", "sort"):
        assert isinstance(value, dict)


@fuzz_settings(ci=200)
@given(QUERY_TEXT, QUERY_TEXT, st.sampled_from(["", "0", "10", "-1", "1e3", "x", "９"]))
def test_a_whole_find_is_parsed_or_refused(filter_text: str, sort: str, skip: str) -> None:
    try:
        query = parse_find(filter_text, "", sort, skip, skip)
    except Exception as error:  # noqa: BLE001
        assert_specific(error)
        return
    assert query.skip >= 0 and query.limit >= 0


@fuzz_settings(ci=300)
@given(DOCUMENTS)
@example({"a.b": 1, "$x": {"": [MinKey()]}})
@example({"n": float("nan"), "big": Int64(2**63 - 1), "small": 2**31})
def test_a_document_round_trips_through_the_editor(document: dict) -> None:
    bson_bytes(document)  # the generated document is storable
    text = to_editor_text(document)
    back = from_editor_text(text)
    assert same_document(back, document), text


# Documents that may hold names Extended JSON reads as types, at any depth.
ANY_NAMES = NAMES.filter(lambda n: "\x00" not in n) | st.sampled_from(sorted(_EJSON_WRAPPERS))
ANY_DOCUMENTS = st.dictionaries(ANY_NAMES, st.recursive(
    SCALARS.map(_uuid_binary), lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(ANY_NAMES, inner, max_size=3), max_leaves=8), max_size=4)


@fuzz_settings(ci=300)
@given(ANY_DOCUMENTS)
@example({"x": {"$oid": "507f1f77bcf86cd799439011"}})  # was saved back as an ObjectId
@example({"x": [{"$date": "soon", "y": 1}]})  # was a save refused after the edit
@example({"$numberLong": "5"})
def test_the_editor_opens_only_documents_it_gives_back_unchanged(document: dict) -> None:
    try:
        check_editable(document)
    except ValidationError as error:
        assert_specific(error)
        assert editor_ambiguity(document) is not None
        return
    assert same_document(from_editor_text(to_editor_text(document)), document)


@fuzz_settings(ci=300)
@given(VALUES)
def test_a_field_value_round_trips_through_the_field_editor(value) -> None:
    back = parse_query(value_text(value), "value")
    assert same_document({"v": back}, {"v": value}), value_text(value)


@fuzz_settings(ci=300)
@given(QUERY_TEXT)
@example('{"_id": {"$oid": 5}}')
@example("[1, {}]")
@example("[]")
def test_editor_text_is_read_or_refused(text: str) -> None:
    for read in (from_editor_text, from_editor_many):
        try:
            result = read(text)
        except Exception as error:  # noqa: BLE001
            assert_specific(error)
            continue
        assert isinstance(result, (dict, list))


@fuzz_settings(ci=200)
@given(QUERY_TEXT, st.integers(1, 40))
@example("{$match: {}, $limit: 1}", 2)
@example("{match: {}}", 1)
def test_an_aggregation_stage_is_parsed_or_refused(text: str, number: int) -> None:
    try:
        stage = parse_stage(text, number)
    except Exception as error:  # noqa: BLE001
        _refused(error, f"stage {number}")
        return
    (operator,) = stage
    assert operator.startswith("$")


@fuzz_settings(ci=300)
@given(st.lists(NAMES | st.integers(0, 99), min_size=1, max_size=5))
@example(["\x7f"])  # was shown raw: json.dumps(ensure_ascii=False) keeps DEL and U+2028
@example(["a", "\u2028", 3])
def test_field_names_are_shown_so_they_read_back(path: list) -> None:
    for part in path:
        if isinstance(part, str):
            shown = field_name(part)
            assert shown == part or json.loads(shown) == part
    assert field_path(path).isprintable()
    dotted = dotted_path(path)
    if dotted is not None:
        assert dotted.split(".") == [str(part) for part in path]
