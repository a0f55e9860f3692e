"""Float sums that overflow are infinite online, as offline (SQL), not an OverflowError.

Found by the definitions fuzz (tests/core/test_definition_fuzz.py): a Std over 1e300
raised OverflowError in the read-time evaluator, a Sum of two 1e308 likewise."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from confluens.core import Count, Entity, FeatureView, Mean, Source, Std, Sum
from confluens.plan import plan_view, point_features
from confluens.streaming import EntityEvents, evaluate_all

S = 1_000_000
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TX = Source("tx", {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64"}, "ts",
            id="id")


@pytest.mark.parametrize("values", [[1e308, 1e308], [1.5, 1e300, -2.0], [1e308, -1e308, 1e308]])
def test_overflowing_float_aggregates_match_the_sql_engine(values: list[float]) -> None:
    view = FeatureView("v", Entity("k", ["k"]), TX, [
        Sum("v", window="1d"), Mean("v", window="1d"), Std("v", window="1d"),
        Count(window="1d")])
    plan = plan_view(view)
    rows = [(i * S, str(i), i * S, {"v": v}, ()) for i, v in enumerate(values)]
    online = evaluate_all(plan, EntityEvents.of(rows), len(values) * S)
    events = pa.table({"id": list(range(len(values))), "k": ["a"] * len(values), "v": values,
                       "ts": pa.array([T0 + timedelta(seconds=i) for i in range(len(values))],
                                      pa.timestamp("us", tz="UTC"))})
    points = pa.table({"k": ["a"], "__point": [0], "__at": pa.array(
        [T0 + timedelta(seconds=len(values))], pa.timestamp("us", tz="UTC"))})
    offline = point_features(plan, events, points, engine="window").to_pylist()[0]
    for name in view.feature_names:
        got, want = online[name], offline[name]
        if isinstance(want, float) and math.isnan(want):
            assert isinstance(got, float), name
            continue
        assert got == want or math.isclose(got, want), (name, got, want)
