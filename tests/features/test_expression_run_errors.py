"""An expression that passes the definition checks but fails on the stored data (a
division by zero, an integer overflow, a double out of an integer's range) gives one
FeatureExpressionError naming the view, the expression and the features that read it,
in every engine and when the online state is built. Other engine errors are not
disguised as the user's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from confluens.core import Count, Entity, FeatureView, Source, Sum
from confluens.errors import FeatureExpressionError, InputError
from confluens.plan import event_features, plan_view, point_features
from confluens.plan.user_sql import blame
from confluens.project.online_state import online_state

TX = Source("tx", {"id": "int64", "ts": "timestamp", "card": "string", "d": "int64",
                   "n": "int64", "f": "float64"}, "ts", id="id")
CARD = Entity("card", ["card"])
EVENTS = pa.table({"id": [1, 2], "card": ["a", "a"], "d": [7, 0], "n": [1, 2**62],
                   "f": [1.5, 1e300],
                   "ts": [datetime(2024, 1, 1, h, tzinfo=UTC) for h in (1, 2)]})


def spend(derive: dict[str, str], *features: object) -> FeatureView:
    return FeatureView("spend", CARD, TX, list(features) or [Sum("x", window="1d")],  # type: ignore[arg-type]
                       derive=derive)


CASES = [
    ({"x": "100 // d"}, "derive 'x'", "Division by zero"),
    ({"x": "n * 4"}, "derive 'x'", "Overflow"),
    ({"x": "CAST(f AS BIGINT)"}, "derive 'x'", "Conversion Error"),
]


@pytest.mark.parametrize("engine", ["auto", "window"])
@pytest.mark.parametrize(("derive", "label", "reason"), CASES)
def test_a_failing_derive_names_view_expression_and_features(
        engine: str, derive: dict[str, str], label: str, reason: str) -> None:
    plan = plan_view(spend(derive))
    with pytest.raises(FeatureExpressionError) as info:
        event_features(plan, EVENTS, engine=engine)  # type: ignore[arg-type]
    error = info.value
    assert error.thing == f"feature view 'spend' {label} (read by feature 'x_sum_1d')"
    assert reason in error.rule
    assert error.got == derive["x"]
    assert "CASE WHEN" in error.fix
    assert isinstance(error.__cause__, duckdb.Error)
    points = pa.table({"card": ["a"], "__at": EVENTS.column("ts").slice(1, 1),
                       "__point": [0]})
    with pytest.raises(FeatureExpressionError):
        point_features(plan, EVENTS, points, engine=engine)  # type: ignore[arg-type]


def test_a_failing_filter_names_the_features_it_filters() -> None:
    view = spend({}, Count(window="1d", where="100 // d > 1", name="big"))
    with pytest.raises(FeatureExpressionError) as info:
        event_features(plan_view(view), EVENTS)
    assert info.value.thing == "feature view 'spend' where (read by feature 'big')"


def test_building_the_online_state_names_the_expression_too(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pq.write_table(EVENTS, path)
    with pytest.raises(FeatureExpressionError) as info:
        online_state(plan_view(spend({"x": "100 // d"})), [str(path)])
    assert info.value.got == "100 // d"


def test_a_guard_is_the_fix_and_runs() -> None:
    """CASE evaluates a branch only where it is taken, so the guarded division runs."""
    table = event_features(plan_view(spend({"x": "CASE WHEN d <> 0 THEN 100 // d END"})),
                           EVENTS)
    assert sorted(table.column("x_sum_1d").to_pylist()) == [14, 14]


def test_try_cast_gives_null_where_a_cast_fails() -> None:
    table = event_features(plan_view(spend({"x": "TRY_CAST(f AS BIGINT)"})), EVENTS)
    assert sorted(table.column("x_sum_1d").to_pylist()) == [2, 2]


def test_an_error_no_expression_reproduces_is_not_blamed_on_the_user() -> None:
    con = duckdb.connect()
    try:
        con.register("events", EVENTS)
        plan = plan_view(spend({"x": "n + 1"}))
        assert blame(plan, con, "events", duckdb.Error("engine bug")) is None
    finally:
        con.close()


def test_an_integer_sum_beyond_int64_is_refused_not_wrapped() -> None:
    view = FeatureView("big", CARD, TX, [Sum("n", window="1d")])
    events = EVENTS.set_column(EVENTS.schema.get_field_index("n"), "n",
                               pa.array([2**62, 2**62], pa.int64()))
    for engine in ("auto", "window"):
        with pytest.raises(InputError) as info:
            event_features(plan_view(view), events, engine=engine)  # type: ignore[arg-type]
        assert info.value.thing == "feature view 'big' feature 'n_sum_1d'"
        assert "exceeds the int64 range" in info.value.rule
        assert "CAST(col AS DOUBLE)" in info.value.fix
