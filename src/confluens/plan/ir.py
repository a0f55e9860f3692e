"""The plan IR: what a feature view computes, independent of any engine.

A :class:`ViewPlan` lists the per-event columns to derive and, for each feature,
a :class:`WindowAgg` (one aggregation over one window) or a :class:`RatioOf` two
of them. Engines compile it (``plan/duckdb.py``; Spark later); nothing here runs.

>>> from confluens.core import Count, Entity, FeatureView, Mean, Source
>>> tx = Source("tx", {"id": "int64", "ts": "timestamp", "c": "string", "a": "float64"},
...             "ts", id="id")
>>> plan = plan_view(FeatureView("v", Entity("c", ["c"]), tx,
...                              [Count(window="1d"), Mean("a", window="7d", delay="1d")]))
>>> [(w.output, w.kind, w.window_us, w.delay_us) for w in plan.aggregations]
[('count_1d', 'count', 86400000000, 0), ('a_mean_7d_delay1d', 'mean', 604800000000, 86400000000)]
"""

from __future__ import annotations

from dataclasses import dataclass

from confluens.core import Aggregation, DType, FeatureView, Latest, Ratio, TimeWindow
from confluens.core.system_columns import KEY

__all__ = ["RatioOf", "ViewPlan", "WindowAgg", "plan_view"]


@dataclass(frozen=True, slots=True)
class WindowAgg:
    """One aggregation over one window; exactly one of ``window_us`` and ``events`` is set."""

    output: str
    kind: str  # count, sum, mean, min, max, std, last, distinct, latest (nulls included)
    column: str | None
    window_us: int | None
    events: int | None
    delay_us: int
    where: str | None


@dataclass(frozen=True, slots=True)
class RatioOf:
    output: str
    numerator: WindowAgg
    denominator: WindowAgg
    empty: float | None


@dataclass(frozen=True, slots=True)
class ViewPlan:
    name: str
    keys: tuple[str, ...]
    event_time: str
    tie: str  # the column ordering events with equal event times
    derive: tuple[tuple[str, str], ...]
    features: tuple[WindowAgg | RatioOf, ...]
    columns: tuple[str, ...]  # source columns the plan reads
    known_at: str | None = None  # when each event became visible (bitemporal sources)
    version: str | None = None  # orders events with equal event times, before the tie
    version_is_time: bool = False  # the version column is a timestamp (else int64)

    @property
    def aggregations(self) -> list[WindowAgg]:
        """Every WindowAgg, including the parts of ratios, each once."""
        out: list[WindowAgg] = []
        for f in self.features:
            for agg in (f.numerator, f.denominator) if isinstance(f, RatioOf) else (f,):
                if agg not in out:
                    out.append(agg)
        return out


def _agg(a: Aggregation, output: str) -> WindowAgg:
    window = a.window
    return WindowAgg(
        output=output, kind=a.kind, column=a.column,
        # a lower edge included: [t - w, t] is (t - w - 1µs, t] on µs times
        window_us=window.length.microseconds + (isinstance(a, Latest) and a.lower_inclusive)
        if isinstance(window, TimeWindow) else None,
        events=None if isinstance(window, TimeWindow) else window.n,
        delay_us=a.delay.microseconds, where=a.where)


def plan_view(view: FeatureView) -> ViewPlan:
    features: list[WindowAgg | RatioOf] = []
    for f in view.features:
        if isinstance(f, Ratio):
            features.append(RatioOf(
                f.feature_name,
                _agg(f.numerator, f"__{f.feature_name}__num"),
                _agg(f.denominator, f"__{f.feature_name}__den"), f.empty))
        else:
            features.append(_agg(f, f.feature_name))
    source = view.source
    tie = source.id or KEY
    return ViewPlan(name=view.name, keys=view.entity.keys, event_time=source.event_time,
                    tie=tie, derive=view.derive, features=tuple(features),
                    columns=tuple(source.schema.names), known_at=source.known_at,
                    version=source.version, version_is_time=source.version is not None
                    and source.schema[source.version].dtype is DType.TIMESTAMP)
