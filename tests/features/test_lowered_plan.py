"""The lowered plan (plan/ir.py): each rule stated once, and kinds engines refuse by name."""

from __future__ import annotations

import pyarrow as pa
import pytest

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
from confluens.core.snapshot import Latest
from confluens.errors import NotSupportedError
from confluens.plan import event_features, plan_view
from confluens.plan.ir import ENGINES, Kind, lower, require

TX = Source("tx", {"id": "int64", "ts": "timestamp", "card": "string", "amount": "float64"},
            "ts", id="id")
CARD = Entity("card", ["card"])


def _view(*features: object) -> FeatureView:
    return FeatureView("spend", CARD, TX, list(features))  # type: ignore[arg-type]


def test_every_definition_kind_is_a_kind_with_the_definitions_empty_value() -> None:
    for cls in (Count, Sum, Mean, Min, Max, Std, Last, DistinctCount, Latest):
        kind = Kind(cls.kind)
        assert kind.empty == cls.empty, cls
        assert kind.engines <= set(ENGINES)
        assert "window" in kind.engines
        assert "python" in kind.engines


def test_selections_and_aggregations_are_named_once() -> None:
    plan = plan_view(_view(
        Sum("amount", window="1d"), Mean("amount", window="1d"),
        Count(window="1d", delay="1h"),
        Ratio(Sum("amount", window="1d"), Count(window="1d"), empty=0.0, name="avg_1d"),
        Count(window=Events(3), where="amount > 1", name="big3")))
    low = lower(plan)
    assert low.delays == (0, 3_600_000_000)
    assert len(low.selections) == 3  # 1d (the ratio's too), 1d delayed 1h, Events(3)
    # the ratio's sum is the feature's sum: one computation, two outputs
    assert [str(a.kind) for a in low.aggregations] == ["sum", "mean", "count", "count",
                                                        "count"]
    ratio = next(o for o in low.outputs if o.name == "avg_1d")
    assert ratio.value == low.slot["amount_sum_1d"]
    assert ratio.denominator is not None
    assert ratio.empty == 0.0
    assert ratio.lookback_us == 86_400_000_000
    assert low.filters == ("amount > 1",)
    assert low.lookback_us is None  # an event-count window reaches any distance
    assert low.reach_us == 86_400_000_000 + 3_600_000_000
    assert low.count_windows == {("amount > 1", 0): 3}
    assert low.retention.latest_n == (("amount > 1", 0, 3),)
    assert low.retention.time_back_us == low.reach_us
    assert lower(plan) is low  # lowered once per plan


def test_the_lookup_engine_refuses_a_kind_by_name() -> None:
    plan = plan_view(_view(Count(window="1d"), Std("amount", window="7d")))
    events = pa.table({"id": [1], "ts": pa.array([0], pa.timestamp("us", tz="UTC")),
                       "card": ["a"], "amount": [1.0]})
    with pytest.raises(NotSupportedError) as found:
        event_features(plan, events, engine="lookup")
    message = str(found.value)
    assert "'std'" in message
    assert "'spend'" in message
    assert "amount_std_7d" in message
    assert "window" in message  # an engine that can
    assert event_features(plan, events, engine="auto").num_rows == 1


def test_an_engine_with_a_narrower_list_refuses_by_name_never_key_error() -> None:
    plan = plan_view(_view(DistinctCount("amount", window="1d")))
    with pytest.raises(NotSupportedError, match="does not evaluate 'distinct'"):
        require(plan, "python", frozenset({Kind.COUNT}))
    require(plan, "window")
