"""Feature definitions fail when built (or, for their expressions, when definitions load),
naming the feature, the rule, the value and the fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from confluens.core import (
    Count,
    Definitions,
    Duration,
    Entity,
    Events,
    FeatureView,
    Last,
    Mean,
    Ratio,
    Source,
    Sum,
)
from confluens.errors import DefinitionError, DefinitionsError
from confluens.plan.expressions import check_view

TX = Source("tx", {"id": "int64", "ts": "timestamp", "customer_id": "string",
                   "amount": "float64"}, "ts", id="id")
CUSTOMER = Entity("customer", ["customer_id"])


def view(*features: object, **kwargs: object) -> FeatureView:
    """The view, built, and its expressions typed as loading the definitions does."""
    built = FeatureView("v", CUSTOMER, TX, list(features), **kwargs)  # type: ignore[arg-type]
    check_view(built)
    return built


BAD: list[tuple[str, Callable[[], object], str, object]] = [
    ("window text", lambda: Count(window="7 days"), "whole number and a unit", "7 days"),
    ("window unit", lambda: Count(window="7y"), "whole number and a unit", "7y"),
    ("zero window", lambda: Count(window="0d"), "longer than zero", "0d"),
    ("no window", lambda: Count(), "needs a window", None),
    ("negative delay", lambda: Count(window="1d", delay="-1d"), "whole number", "-1d"),
    ("events n", lambda: Events(0), "at least 1", 0),
    ("mean without column", lambda: Mean(None, window="1d"), "needs a column", None),
    ("filter without name", lambda: Sum("amount", window="1d", where="amount > 0"),
     "needs a name", "amount > 0"),
    ("unknown column", lambda: view(Mean("price", window="1d")), "does not have", "price"),
    ("filter on unknown column", lambda: view(Count(window="1d", where="x > 1", name="n")),
     "does not have", "x"),
    ("filter not an expression", lambda: view(Count(window="1d", where="1; DROP TABLE t",
                                                    name="n")), "one expression", None),
    ("entity key missing", lambda: FeatureView("v", Entity("t", ["terminal_id"]), TX,
                                               [Count(window="1d")]), "key column",
     "terminal_id"),
    ("duplicate names", lambda: view(Count(window="1d"), Count(window="1d")), "unique",
     "count_1d"),
    ("no features", lambda: view(), "at least one feature", []),
    ("derived shadows", lambda: view(Count(window="1d"), derive={"amount": "amount * 2"}),
     "shadow", "amount"),
    ("derived from unknown", lambda: view(Count(window="1d"), derive={"x": "nope + 1"}),
     "does not have", "nope"),
    ("ratio parts", lambda: Ratio(Count(window="1d"), 3), "must be aggregations", 3),
]


@pytest.mark.parametrize(("case", "build", "rule", "value"), BAD, ids=[b[0] for b in BAD])
def test_bad_feature_definitions(case: str, build: Callable[[], object], rule: str,
                                 value: object) -> None:
    with pytest.raises(DefinitionError) as info:
        build()
    assert rule in info.value.rule, (case, str(info.value))
    if value is not None:
        assert info.value.got == value, (case, str(info.value))
    assert info.value.fix


def test_generated_names_and_durations() -> None:
    assert Mean("amount", window="7d").feature_name == "amount_mean_7d"
    assert Count(window="30d", delay="7d").feature_name == "count_30d_delay7d"
    assert Last("amount", window=Events(3)).feature_name == "amount_last_last3"
    assert str(Duration.parse("90m")) == "90m"
    assert str(Duration.parse("2w")) == "14d"
    assert Duration.parse("1h") == Duration.parse("60m")


def test_derived_columns_may_build_on_each_other() -> None:
    v = view(Sum("big", window="1d"), derive={"double": "amount * 2",
                                             "big": "CAST(double > 100 AS INTEGER)"})
    assert v.feature_names == ["big_sum_1d"]


def test_definitions_collect_views_with_their_entity_and_source() -> None:
    v = view(Count(window="1d"))
    defs = Definitions.collect([v])
    assert defs.names() == ["entity:customer", "feature_view:v", "source:tx"]
    other = Source("tx", {"ts": "timestamp", "customer_id": "string"}, "ts")
    with pytest.raises(DefinitionsError, match="differs from the registered source"):
        Definitions(entities=[CUSTOMER], sources=[other], feature_views=[v])
