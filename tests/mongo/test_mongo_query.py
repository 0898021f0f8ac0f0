"""The query bar's parser: shell forms, Extended JSON, and errors pointing into the user's text."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from bson import Binary, Decimal128, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.int64 import Int64

from studio_tui.services.mongo.query import QuerySyntaxError, parse_query


def test_empty_text_is_an_empty_filter():
    assert parse_query("") == {}
    assert parse_query("   \n ") == {}


def test_unquoted_keys_operators_and_single_quotes_keep_key_order():
    parsed = parse_query("{age: {$gt: 30}, name: 'bob', 'a.b': \"x\", z: 1, a: 2}")
    assert parsed == {"age": {"$gt": 30}, "name": "bob", "a.b": "x", "z": 1, "a": 2}
    assert list(parsed) == ["age", "name", "a.b", "z", "a"]


def test_shell_constructors_become_bson_values():
    parsed = parse_query(
        "{id: ObjectId('5f1d7a3b9c1e4a2b3c4d5e6f'), d: ISODate(\"2020-01-02\"),"
        " e: new Date('2020-01-02T03:04:05.678Z'), f: new Date(86400000),"
        " n: NumberLong(5), big: NumberLong('9007199254740993'), i: NumberInt('7'),"
        " x: NumberDecimal('1.10'), t: Timestamp(5, 1), b: BinData(3, 'AQID'),"
        " u: UUID('00112233-4455-6677-8899-aabbccddeeff'), lo: MinKey, hi: MaxKey()}")
    assert parsed["id"] == ObjectId("5f1d7a3b9c1e4a2b3c4d5e6f")
    assert parsed["d"] == datetime(2020, 1, 2, tzinfo=timezone.utc)
    assert parsed["e"] == datetime(2020, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    assert parsed["f"] == datetime(1970, 1, 2, tzinfo=timezone.utc)
    assert type(parsed["n"]) is Int64 and parsed["n"] == 5
    assert parsed["big"] == Int64(9007199254740993)
    assert type(parsed["i"]) is int and parsed["i"] == 7
    assert parsed["x"] == Decimal128("1.10") and str(parsed["x"]) == "1.10"
    assert parsed["t"] == Timestamp(5, 1)
    assert parsed["b"] == Binary(b"\x01\x02\x03", 3)
    assert parsed["u"] == Binary(bytes.fromhex("00112233445566778899aabbccddeeff"), 4)
    assert isinstance(parsed["lo"], MinKey) and isinstance(parsed["hi"], MaxKey)


def test_regex_literals_with_slashes_in_classes_and_flags():
    parsed = parse_query("{name: /^a[/]b\\/c/im, tags: {$in: [/x/, /y/s]}}")
    assert parsed["name"] == Regex("^a[/]b\\/c", re.I | re.M)
    assert parsed["tags"]["$in"][1] == Regex("y", re.S)


def test_extended_json_wrappers_and_comments():
    parsed = parse_query('{a: {"$oid": "5f1d7a3b9c1e4a2b3c4d5e6f"}, // note\n'
                         ' n: {"$numberLong": "3"}, /* block */ d: {"$date": "2020-01-01T00:00:00Z"},}')
    assert parsed == {"a": ObjectId("5f1d7a3b9c1e4a2b3c4d5e6f"), "n": Int64(3),
                      "d": datetime(2020, 1, 1, tzinfo=timezone.utc)}


def test_constructor_names_as_keys_and_inside_strings_are_left_alone():
    assert parse_query("{ObjectId: 1, s: 'ObjectId(\"x\")', t: '/not a regex/'}") == {
        "ObjectId": 1, "s": 'ObjectId("x")', "t": "/not a regex/"}


def test_arrays_allowed_for_pipelines_and_updates_but_not_filters():
    assert parse_query("[{$match: {a: 1}}]", "pipeline") == [{"$match": {"a": 1}}]
    assert parse_query("[{$set: {a: 1}}]", "update") == [{"$set": {"a": 1}}]
    with pytest.raises(QuerySyntaxError, match="sort: must be an object"):
        parse_query("[1]", "sort")


@pytest.mark.parametrize(("text", "line", "column", "message"), [
    ("{a: }", 1, 5, 'unexpected "}"'),
    ("{a: 1", 1, 6, "unexpected end of text"),
    ('{a: "x}', 1, 5, "unterminated string"),
    ("{a: /x/q}", 1, 8, "unknown regular expression flag 'q'"),
    ("{a: 1,\n  b: ObjectId('zz')}", 2, 15, "ObjectId needs 24 hex digits"),
    ("{a: NumberInt(1.5)}", 1, 15, "needs a whole number"),
    ("{a: NumberInt(3000000000)}", 1, 15, "out of range"),
    ("{a: ISODate('yesterday')}", 1, 13, "not an ISO-8601 date"),
    ("{a: BinData(0, '***')}", 1, 16, "not valid base64"),
    ("{a: Timestamp(1)}", 1, 5, "takes two numbers"),
    ("{a: UUID('nope')}", 1, 10, "not a UUID"),
    ("{a: ObjectId('5f1d7a3b9c1e4a2b3c4d5e6f')\n , b: }", 2, 7, 'unexpected "}"'),
    ("{x: /abc}", 1, 5, "unterminated regular expression"),
    ("{a: 1 /* open", 1, 7, "unterminated comment"),
])
def test_errors_point_at_the_users_own_text(text, line, column, message):
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(text, "filter")
    error = caught.value
    assert (error.line, error.column) == (line, column), error.detail
    assert message in error.detail
    assert error.detail.startswith("filter: ")
    assert "filter" in error.field_errors


def test_the_field_name_is_in_the_error():
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("{$set: {a: }}", "stage 2")
    assert caught.value.detail.startswith("stage 2: ") and caught.value.field == "stage 2"


def test_a_bad_extended_json_wrapper_is_an_error_not_a_crash():
    with pytest.raises(QuerySyntaxError, match="filter"):
        parse_query('{a: {"$oid": 5}}')
