"""Fuzz: malformed feature definitions are refused when built or loaded, or materialize
correctly.

Hypothesis builds feature views from random parts: aggregations of every kind on
columns of every type (and on unknown columns and the entity key), windows and delays
of every size and shape, and derive/where expressions from a small SQL grammar with
allowed and forbidden functions, operands of every type and literals that overflow or
do not convert. Each definition must either raise DefinitionError when it is built
or when definitions load (``check_view``, which types its expressions), or compute:
both engines give the same values (or both raise the one run-time error
a user expression may cause, FeatureExpressionError), and the online state read at
the latest event equals the offline values there. Never any other exception.
"""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from confluens.core import (
    Count,
    DistinctCount,
    Entity,
    Events,
    FeatureView,
    Last,
    Max,
    Mean,
    Min,
    Ratio,
    Source,
    Std,
    Sum,
)
from confluens.errors import DefinitionError, FeatureExpressionError, InputError
from confluens.plan import event_features, plan_view, point_features
from confluens.plan.expressions import check_view
from confluens.project.online_state import online_state, read_online

TYPES = {"id": "int64", "ts": "timestamp", "card": "string", "code": "string",
         "amount": "float64", "n": "int64", "ok": "bool", "day": "date"}
TX = Source("tx", TYPES, "ts", id="id")
CARD = Entity("card", ["card"])
T0 = datetime(2024, 1, 1, tzinfo=UTC)
EVENTS = pa.table({
    "id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
    "ts": pa.array([T0 + timedelta(hours=h) for h in (0, 1, 1, 30, 31, 2000)],
                   pa.timestamp("us", tz="UTC")),
    "card": ["a", "a", "b", "a", "b", None],
    "code": ["7", "x7", None, "12", "-3", "0"],
    "amount": pa.array([1.5, None, -2.0, 1e300, 0.0, 3.25], pa.float64()),
    "n": pa.array([1, 2**62, None, 2**62, 0, -7], pa.int64()),
    "ok": [True, False, None, True, False, True],
    "day": pa.array([T0.date()] * 6, pa.date32()),
})

KINDS = [Count, Sum, Mean, Min, Max, Std, Last, DistinctCount]
COLUMNS = [*TYPES, "nope", "x", "y"]
FUNCTIONS = ["abs", "round", "floor", "sqrt", "ln", "lower", "upper", "length", "hour",
             "isodow", "epoch", "coalesce", "nofunc", "sum", "random", "avg", "strlen"]
LITERALS = ["1", "0", "2.5", "-7", "9223372036854775807", "1e308", "'x'", "'7'",
            "'2024-01-01'", "NULL", "TRUE", "INTERVAL 1 DAY"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "=", "<", ">=", "<>", "AND", "OR", "||", "LIKE"]
CASTS = ["BIGINT", "INTEGER", "DOUBLE", "VARCHAR", "BOOLEAN", "TIMESTAMP", "DATE",
         "DECIMAL(4, 1)", "BLOB"]

leaves = st.sampled_from(COLUMNS) | st.sampled_from(LITERALS)


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(FUNCTIONS), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["CAST", "TRY_CAST"]), inner, st.sampled_from(CASTS)).map(
            lambda t: f"{t[0]}({t[1]} AS {t[2]})"),
        inner.map(lambda e: f"NOT {e}"),
        st.tuples(inner, inner, inner).map(
            lambda t: f"CASE WHEN {t[0]} THEN {t[1]} ELSE {t[2]} END"),
    )


# mostly well-typed numbers and conditions, some of which fail only on the data
numbers = st.recursive(
    st.sampled_from(["amount", "n", "id", "1", "2.5", "-7", "0", "9223372036854775807",
                     "1e308", "hour(ts)", "length(code)", "CAST(code AS INTEGER)",
                     "TRY_CAST(code AS DOUBLE)", "epoch(ts)", "CAST(ok AS INTEGER)"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["abs", "round", "sqrt", "ln", "floor", "sign"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"coalesce({t[0]}, {t[1]})")),
    max_leaves=4)
conditions = st.one_of(
    st.tuples(numbers, st.sampled_from(["<", ">=", "=", "<>"]), numbers).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}"),
    st.sampled_from(["ok", "code LIKE '%7'", "ts > '2024-01-02'", "ts > 'not a time'",
                     "day < ts", "NOT ok", "code IS NULL", "n IN (1, 2)"]))
malformed = st.sampled_from(["", "amount > (SELECT 1)", "1; DROP TABLE t", "amount >", "(((",
                             "*"])
expressions = st.sampled_from(range(10)).flatmap(
    lambda i: malformed if i == 1 else numbers if i < 5 else conditions if i < 8
    else st.recursive(leaves, _grow, max_leaves=5))
valid_durations = st.tuples(st.integers(1, 300), st.sampled_from("smhd")).map(
    lambda t: f"{t[0]}{t[1]}")
bad_durations = st.one_of(
    st.tuples(st.integers(0, 10**10), st.sampled_from("smhdw")).map(lambda t: f"{t[0]}{t[1]}"),
    st.sampled_from(["7 days", "-1d", "1y", "", "1.5h", "36525d", "5218w", "36526d"]),
    st.integers(-5, 5))
bad_windows = bad_durations | st.integers(-1, 2**32).map(lambda n: ("events", n)) | st.none()


def _window(value: Any) -> Any:
    return Events(value[1]) if isinstance(value, tuple) else value


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any],
           odds: int = 8) -> st.SearchStrategy[Any]:
    """``good`` about ``odds`` times in ``odds + 1``, else ``bad``."""
    return st.sampled_from(range(odds + 1)).flatmap(lambda i: bad if i == 1 else good)


@st.composite
def aggregations(draw: st.DrawFn, name: str) -> Any:
    kind = draw(st.sampled_from(KINDS))
    typed = [c for c in TYPES if c != "card"] + ["x", "amount", "n"]
    column = draw(mostly(st.sampled_from(typed), st.sampled_from(["card", "nope", "x", None]),
                         odds=15))
    if kind is Count and draw(st.booleans()):
        column = None
    where = draw(mostly(st.none(), mostly(conditions, expressions, odds=3), odds=2))
    window = draw(mostly(valid_durations | st.integers(1, 5).map(lambda n: ("events", n)),
                         bad_windows, odds=30))
    delay = draw(mostly(st.none() | valid_durations, bad_durations, odds=30))
    kwargs: dict[str, Any] = {"window": _window(window), "where": where,
                              "name": draw(mostly(st.just(name), st.sampled_from(
                                  [None, "Bad Name", "f0"]), odds=30))}
    if delay is not None:
        kwargs["delay"] = delay
    return kind(column, **kwargs)


@st.composite
def views(draw: st.DrawFn) -> FeatureView:
    derive = draw(mostly(st.just({}), st.dictionaries(
        mostly(st.sampled_from(["x", "y"]), st.sampled_from(["amount", "__bad"]), odds=6),
        mostly(numbers, expressions, odds=2), max_size=2), odds=1))
    features = [draw(aggregations(f"f{i}")) for i in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        features.append(Ratio(features[0], draw(aggregations("den")), name="ratio"))
    return FeatureView("fuzz", CARD, TX, features, derive=derive)


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or a == b
    return bool(a == b)


def by_event(table: pa.Table, names: list[str]) -> dict[Any, dict[str, Any]]:
    return {row["__tie"]: {n: row[n] for n in names} for row in table.to_pylist()}


def computed(view: FeatureView) -> None:
    """Both engines agree; the online state at the latest event equals offline."""
    plan = plan_view(view)
    names = view.feature_names
    results: list[Any] = []
    for engine in ("auto", "window"):
        try:
            results.append(by_event(event_features(plan, EVENTS, engine=engine), names))  # type: ignore[arg-type]
        except InputError as error:  # the data breaks an expression, or an int64 sum
            event(f"refused at run time: {type(error).__name__}")
            results.append(error)
    for result in results:
        if isinstance(result, FeatureExpressionError):
            parts = [p for f in view.features for p in getattr(f, "parts", (f,))]
            assert result.got in [text for _, text in view.derive] + [p.where for p in parts]
        if isinstance(result, InputError):
            assert result.thing.startswith("feature view 'fuzz'")
    auto, window = results
    if isinstance(auto, InputError) or isinstance(window, InputError):
        assert type(auto) is type(window), "what fails in one engine fails in both"
        return
    assert auto.keys() == window.keys() == set(EVENTS.column("id").to_pylist())
    for tie, values in auto.items():
        for name in names:
            assert same(values[name], window[tie][name]), (tie, name, values[name],
                                                            window[tie][name])
    latest = T0 + timedelta(hours=2000)
    points = pa.table({"card": ["a", "b"], "__at": pa.array([latest] * 2,
                                                             pa.timestamp("us", tz="UTC")),
                       "__point": [0, 1]})
    at_points: pa.Table | InputError
    try:
        at_points = point_features(plan, EVENTS, points)
    except InputError as error:  # an int64 sum overflowing at these points, say
        at_points = error
    if isinstance(at_points, InputError):
        assert at_points.thing.startswith("feature view 'fuzz'"), str(at_points)
        event(f"refused at run time at points: {type(at_points).__name__}")
        return
    offline = {r["__point"]: r for r in at_points.to_pylist()}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.parquet"
        pq.write_table(EVENTS, path)
        state = online_state(plan, [str(path)])

    class Store:
        def read_many(self, requests: list[tuple[str, list[str]]]) -> list[list[bytes | None]]:
            return [[state.get(k) for k in keys] for _, keys in requests]

    online = read_online(view, Store(), [["a"], ["b"]], latest)  # type: ignore[arg-type]
    for point, values in enumerate(online):
        for name in names:
            want = offline[point][name]
            got = values[name]
            if isinstance(want, datetime | type(T0.date())):
                want = str(want)  # the online state returns times as text
            assert same(got, want), (point, name, got, want)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.filter_too_much])
@given(data=st.data())
def test_a_definition_is_refused_when_built_or_computes_correctly(data: st.DataObject) -> None:
    refused: DefinitionError | None = None
    try:
        view = data.draw(views())
        check_view(view)  # as loading the definitions module does
    except DefinitionError as error:
        refused = error
    if refused is not None:
        assert refused.thing, str(refused)
        assert refused.rule, str(refused)
        assert refused.fix, str(refused)
        event(f"refused: {refused.rule.split(';')[0][:40]}")
        return
    event("built" + (" with derive" if view.derive else "") + (
        " with where" if any(getattr(f, "where", None) for f in view.features) else ""))
    computed(view)
