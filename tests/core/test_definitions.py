"""Bad definitions fail when built; errors name the object, the rule, the value and the fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from confluens import Custom, Definitions, Entity, Field, NotNull, OneOf, Range, Regex, Source
from confluens.core import DType, Schema, StreamBinding
from confluens.errors import DefinitionError, DefinitionsError

SCHEMA = {"id": "int64", "ts": "timestamp", "amount": "float64", "name": "string"}


def source(**kwargs: object) -> Source:
    args: dict[str, object] = {"schema": SCHEMA, "event_time": "ts"}
    args.update(kwargs)
    return Source("tx", **args)  # type: ignore[arg-type]


BAD: list[tuple[str, Callable[[], object], str, object, str]] = [
    # (case, build, rule fragment, value received, fix fragment)
    ("name not snake case", lambda: Source("Card TX", SCHEMA, "ts"), "lower snake case",
     "Card TX", "rename"),
    ("event time missing", lambda: source(event_time="when"), "event_time must name a column",
     "when", "add 'when'"),
    ("event time not a timestamp", lambda: source(event_time="amount"), "must be of type "
     "timestamp", "float64", "declare 'amount' as timestamp"),
    ("id of float type", lambda: source(id="amount"), "must be of type int64 or string",
     "float64", "declare 'amount'"),
    ("known_at missing", lambda: source(known_at="seen"), "known_at must name a column",
     "seen", "add 'seen'"),
    ("known_at equals event time", lambda: source(known_at="ts"), "must differ", "ts",
     "drop known_at"),
    ("bad time zone", lambda: source(timezone="Mars/Base"), "IANA zone", "Mars/Base",
     "Europe/Paris"),
    ("unknown type", lambda: source(schema={"ts": "timestamp", "x": "decimal"}),
     "must be one of", "decimal", "use one of"),
    ("duplicate field", lambda: Schema((Field("a", DType.INT64), Field("a", DType.STRING))),
     "unique", "a", "rename the second"),
    ("empty schema", lambda: source(schema={}), "at least one field", (), "declare"),
    ("reserved column", lambda: source(schema={"ts": "timestamp", "_confluens_x": "int"}),
     "reserved", "_confluens_x", "rename"),
    ("format on a number", lambda: Field("a", DType.INT64, format="%Y"), "format=", "int64",
     "drop format="),
    ("check on unknown column", lambda: source(checks=[NotNull("nope")]),
     "must name a column", "nope", "use one of"),
    ("range on a string", lambda: source(checks=[Range("name", min=0)]), "numeric column",
     "string", "numeric column"),
    ("regex on a number", lambda: source(checks=[Regex("amount", pattern="a")]),
     "string column", "float64", "string column"),
    ("two checks, one rule", lambda: source(checks=[Range("amount", min=0),
                                                     Range("amount", max=9)]),
     "unique", "range:amount", "name="),
    ("range without bounds", lambda: Range("amount"), "needs min, max", None, "min="),
    ("range reversed", lambda: Range("amount", min=2, max=1), "must not exceed", (2, 1),
     "swap"),
    ("range bound not a number", lambda: Range("amount", min="0"), "numbers", "0", "numbers"),
    ("bad regex", lambda: Regex("name", pattern="("), "does not compile", "(", "correct"),
    ("one_of empty", lambda: OneOf("name", []), "at least one", [], "list"),
    ("one_of as a string", lambda: OneOf("name", "FR"), "must be a list", "FR", "values="),
    ("bad on_fail", lambda: NotNull("name", on_fail="drop"), "on_fail", "drop", "warn"),
    ("custom not callable", lambda: Custom("amount", fn=3, name="c"), "callable", 3, "fn="),
    ("custom without name", lambda: Custom("amount", fn=lambda df: df), "needs a name", None,
     "name="),
    ("entity without keys", lambda: Entity("customer", keys=[]), "at least one key", [],
     "keys="),
    ("entity repeated keys", lambda: Entity("customer", keys=["a", "a"]), "distinct",
     ["a", "a"], "once"),
    ("entity named global", lambda: Entity("global", keys=["region_id"]), "reserved for "
     "the entity of views without one", "global", "FeatureView(name, None, source"),
    ("stream kind", lambda: StreamBinding("Kafka!", "t"), "kind must be a connector name",
     "Kafka!", "'log'"),
    ("stream partitions", lambda: StreamBinding("log", "t", key="k", partitions=0),
     "partitions must be a whole number", 0, "partitions=4"),
    ("stream partitions without key", lambda: StreamBinding("log", "t", partitions=2),
     "needs a key", 2, "key="),
    ("stream lateness", lambda: StreamBinding("log", "t", allowed_lateness="soon"),
     "whole number and a unit", "soon", "'15m'"),
]


@pytest.mark.parametrize(("case", "build", "rule", "value", "fix"), BAD, ids=[b[0] for b in BAD])
def test_bad_definition_names_thing_rule_value_and_fix(
        case: str, build: Callable[[], object], rule: str, value: object, fix: str) -> None:
    with pytest.raises(DefinitionError) as info:
        build()
    err = info.value
    assert rule in err.rule, (case, str(err))
    assert err.got == value, (case, str(err))
    assert fix in err.fix, (case, str(err))
    assert err.thing
    assert str(err).startswith(err.thing)
    assert "Fix:" in str(err)


def test_definitions_refuse_duplicate_names() -> None:
    a = Source("tx", SCHEMA, "ts")
    with pytest.raises(DefinitionsError) as info:
        Definitions(sources=[a, Source("tx", {"ts": "timestamp"}, "ts")])
    assert info.value.got == "tx"


def test_definitions_are_frozen_and_comparable() -> None:
    a = source(checks=[Range("amount", min=0)])
    b = source(checks=[Range("amount", min=0)])
    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.name = "other"  # type: ignore[misc]


def test_spec_changes_with_every_meaningful_field() -> None:
    base = source().spec()
    assert source(id="id").spec() != base
    assert source(timezone="Europe/Paris").spec() != base
    assert source(checks=[NotNull("name")]).spec() != base
    assert source().spec() == base


def test_custom_check_spec_tracks_the_function_body() -> None:
    def f(df):  # type: ignore[no-untyped-def]
        return df["amount"] > 0

    def g(df):  # type: ignore[no-untyped-def]
        return df["amount"] > 1

    spec_f = Custom("amount", fn=f, name="c").spec()
    spec_g = Custom("amount", fn=g, name="c").spec()
    assert spec_f["code_hash"] != spec_g["code_hash"]


def test_schema_accepts_fields_with_raw_names() -> None:
    s = source(schema=[Field("customer_id", "string", raw="Customer ID"),  # type: ignore[arg-type]
                       Field("ts", "timestamp")])
    assert s.schema["customer_id"].input_name == "Customer ID"


@pytest.mark.parametrize("pattern", [r"a(?=b)", r"(?!x)y", r"(?<=a)b", r"(a)\1"])
def test_regex_refuses_what_re2_cannot_run(pattern: str) -> None:
    with pytest.raises(DefinitionError, match="RE2"):
        Regex("name", pattern=pattern)


def test_one_of_values_must_fit_the_column_type() -> None:
    with pytest.raises(DefinitionError) as info:
        source(checks=[OneOf("name", [1, 2])])
    assert info.value.got == 1
    assert source(checks=[OneOf("id", [1, 2])]).checks[0].values == (1, 2)


def test_double_underscore_columns_are_reserved() -> None:
    with pytest.raises(DefinitionError, match="reserved"):
        source(schema={"ts": "timestamp", "__status": "string"})
    assert Field("status", "string", raw="__status").input_name == "__status"  # type: ignore[arg-type]
