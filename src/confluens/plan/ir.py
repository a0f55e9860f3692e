"""The plan IR: what a feature view computes, independent of any engine.

A :class:`ViewPlan` lists the per-event columns to derive and, for each feature,
a :class:`WindowAgg` (one aggregation over one window) or a :class:`RatioOf` two
of them. :func:`lower` normalises it once into a :class:`LoweredPlan`: the distinct
delays, the distinct (delay, window, filter) selections, the distinct aggregations
over them, the outputs (ratios included), the look-back and what the online state
retains. Every engine consumes the lowered plan and re-derives none of it; each
aggregation's :class:`Kind` says its empty-window value and which engines support
it. Nothing here runs, and nothing here imports an engine.

>>> from confluens.core import Count, Entity, FeatureView, Mean, Source
>>> tx = Source("tx", {"id": "int64", "ts": "timestamp", "c": "string", "a": "float64"},
...             "ts", id="id")
>>> plan = plan_view(FeatureView("v", Entity("c", ["c"]), tx,
...                              [Count(window="1d"), Mean("a", window="7d", delay="1d")]))
>>> [(w.output, str(w.kind), w.window_us, w.delay_us) for w in plan.aggregations]
[('count_1d', 'count', 86400000000, 0), ('a_mean_7d_delay1d', 'mean', 604800000000, 86400000000)]
>>> low = lower(plan)
>>> low.delays, low.offsets, low.lookback_us
((0, 86400000000), (86400000000, 691200000000), 691200000000)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from confluens.core import Aggregation, DType, FeatureView, Latest, Ratio, TimeWindow
from confluens.core.system_columns import KEY
from confluens.errors import NotSupportedError

__all__ = ["ENGINES", "Kind", "LoweredPlan", "Output", "RatioOf", "Retention", "Selection",
           "ViewPlan", "WindowAgg", "lower", "plan_view", "require"]

#: The engines that consume a lowered plan, by the names ``Kind.engines`` and errors use.
ENGINES = ("window", "known-at", "lookup", "python")
_EVERY_ENGINE = frozenset(ENGINES)


class Kind(StrEnum):
    """An aggregation kind: its empty-window value and the engines that support it.

    ``last`` takes the latest non-null value; ``latest`` the latest event's value,
    null or not (a snapshot's column). Every other kind skips null values.
    """

    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    STD = "std"
    LAST = "last"
    DISTINCT = "distinct"
    LATEST = "latest"

    @property
    def empty(self) -> int | None:
        """The value over an empty window: 0 for counts and sums, else null."""
        return 0 if self in (Kind.COUNT, Kind.DISTINCT, Kind.SUM) else None

    @property
    def engines(self) -> frozenset[str]:
        """The engines (of :data:`ENGINES`) that evaluate this kind."""
        if self in (Kind.STD, Kind.DISTINCT):  # no prefix-array form
            return _EVERY_ENGINE - {"lookup"}
        return _EVERY_ENGINE


@dataclass(frozen=True, slots=True)
class WindowAgg:
    """One aggregation over one window; exactly one of ``window_us`` and ``events`` is set."""

    output: str
    kind: Kind
    column: str | None
    window_us: int | None
    events: int | None
    delay_us: int
    where: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))  # a kind's name is accepted

    @property
    def lookback_us(self) -> int | None:
        """How far back from the time it is read at the window reaches (None: a count
        window, which reaches any distance)."""
        return None if self.window_us is None else self.delay_us + self.window_us


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
    # every source column's type name: derive and where are typed against them
    # (``plan/expressions/bind.py``); the texts stay texts here, with no parser
    types: tuple[tuple[str, str], ...] = ()

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
        output=output, kind=Kind(a.kind), column=a.column,
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
                    and source.schema[source.version].dtype is DType.TIMESTAMP,
                    types=tuple((f.name, f.dtype.value) for f in source.schema))


def require(plan: ViewPlan, engine: str, kinds: frozenset[Kind] | None = None, *,
            fix: str = "") -> None:
    """Raise NotSupportedError naming the kind, the view, the feature and the engines
    that can, for the first aggregation of ``plan`` that ``engine`` cannot evaluate
    (by ``Kind.engines``, or by ``kinds``, the engine's own list where it has one);
    ``fix`` says how the caller picks another engine."""
    for f in plan.features:
        for agg in (f.numerator, f.denominator) if isinstance(f, RatioOf) else (f,):
            kind = agg.kind
            if engine in kind.engines and (kinds is None or kind in kinds):
                continue
            can = sorted(e for e in kind.engines if e != engine)
            raise NotSupportedError(
                f"feature view '{plan.name}' feature '{f.output}'",
                f"the {engine} engine does not evaluate '{kind}' aggregations (the "
                f"{', '.join(can)} engines do)", got=str(kind),
                fix=fix or f"use the {' or '.join(can)} engine")


# -- the lowered plan -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Selection:
    """The events one window selects at time ``at``: those at or before
    ``at - delays[delay]``, after ``at - delays[delay] - window_us`` or the
    ``events`` latest ones, passing ``where``."""

    delay: int  # a slot of LoweredPlan.delays
    window_us: int | None
    events: int | None
    where: str | None


@dataclass(frozen=True, slots=True)
class Output:
    """A feature: aggregation slot ``value``, or for a ratio ``value / denominator``
    (``empty`` where the denominator is 0 or null); ``lookback_us``: how far back
    from the time it is read at it reaches (None: an event-count window)."""

    name: str
    value: int
    denominator: int | None
    empty: float | None
    lookback_us: int | None


@dataclass(frozen=True, slots=True)
class Retention:
    """What the online state keeps per entity at a horizon (``plan/retention.py``):

    - events after ``horizon - time_back_us`` (None: none by time);
    - events not yet known at the horizon;
    - per (filter, delay, n) of ``latest_n``, each passing event that fewer than n
      passing events visible at the horizon follow. A ``latest`` value counts as
      n = 1 here, not by its time window.
    """

    time_back_us: int | None
    latest_n: tuple[tuple[str | None, int, int], ...]


@dataclass(frozen=True, slots=True)
class LoweredPlan:
    """A view plan normalised once; every engine consumes it.

    - ``delays``: the distinct delays, in first-use order;
    - ``selections``: the distinct (delay, window, filter) selections;
    - ``aggregations``: each distinct computation once (its first ``WindowAgg``);
      ``selection_of`` gives its selection slot, ``slot`` the aggregation slot of
      every ``WindowAgg.output`` (ratio parts included);
    - ``outputs``: the features, ratios included, each with its look-back;
    - ``filters`` and ``value_columns``: the distinct filters and aggregated columns;
    - ``offsets``: the distinct nonzero delays and delay + window lengths, sorted;
    - ``reach_us``: the longest delay + window of the time windows (None: none);
    - ``count_windows``: the largest n per (filter, delay) of the event-count windows;
    - ``lookback_us``: how far back any output reaches (None: an event-count window);
    - ``retention``: what the online state keeps.
    """

    plan: ViewPlan
    delays: tuple[int, ...]
    selections: tuple[Selection, ...]
    aggregations: tuple[WindowAgg, ...]
    selection_of: tuple[int, ...]
    slot: dict[str, int]
    outputs: tuple[Output, ...]
    filters: tuple[str, ...]
    value_columns: tuple[str, ...]
    offsets: tuple[int, ...]
    reach_us: int | None
    count_windows: dict[tuple[str | None, int], int]
    lookback_us: int | None
    retention: Retention


def _signature(agg: WindowAgg) -> tuple[object, ...]:
    return (agg.kind, agg.column, agg.window_us, agg.events, agg.delay_us, agg.where)


def _lower(plan: ViewPlan) -> LoweredPlan:
    delays: list[int] = []
    selections: list[Selection] = []
    aggregations: list[WindowAgg] = []
    selection_of: list[int] = []
    signatures: list[tuple[object, ...]] = []
    slot: dict[str, int] = {}
    for agg in plan.aggregations:
        if agg.delay_us not in delays:
            delays.append(agg.delay_us)
        selection = Selection(delays.index(agg.delay_us), agg.window_us, agg.events,
                              agg.where)
        if selection not in selections:
            selections.append(selection)
        signature = _signature(agg)
        if signature not in signatures:
            signatures.append(signature)
            aggregations.append(agg)
            selection_of.append(selections.index(selection))
        slot[agg.output] = signatures.index(signature)
    outputs: list[Output] = []
    for f in plan.features:
        if isinstance(f, RatioOf):
            num, den = f.numerator.lookback_us, f.denominator.lookback_us
            outputs.append(Output(f.output, slot[f.numerator.output],
                                  slot[f.denominator.output], f.empty,
                                  None if num is None or den is None else max(num, den)))
        else:
            outputs.append(Output(f.output, slot[f.output], None, None, f.lookback_us))
    backs = [b for a in aggregations if (b := a.lookback_us) is not None]
    count_windows: dict[tuple[str | None, int], int] = {}
    latest_n: dict[tuple[str | None, int], int] = {}
    for a in aggregations:
        group = (a.where, a.delay_us)
        if a.events is not None:
            count_windows[group] = max(count_windows.get(group, 0), a.events)
        if a.events is not None or a.kind is Kind.LATEST:
            latest_n[group] = max(latest_n.get(group, 0), a.events or 1)
    # a latest value needs only the latest passing event that can still be seen (as a
    # count window of 1 would); its window bounds the time at read time
    time_back = max([b for a in aggregations if a.kind is not Kind.LATEST
                     and (b := a.lookback_us) is not None], default=None)
    return LoweredPlan(
        plan=plan, delays=tuple(delays), selections=tuple(selections),
        aggregations=tuple(aggregations), selection_of=tuple(selection_of), slot=slot,
        outputs=tuple(outputs),
        filters=tuple(dict.fromkeys(a.where for a in aggregations if a.where is not None)),
        value_columns=tuple(dict.fromkeys(a.column for a in aggregations
                                          if a.column is not None)),
        offsets=tuple(sorted({a.delay_us for a in aggregations if a.delay_us} | set(backs))),
        reach_us=max(backs) if backs else None, count_windows=count_windows,
        lookback_us=None if count_windows else max(backs, default=0),
        retention=Retention(time_back, tuple((w, d, n) for (w, d), n in latest_n.items())))


_LOWERED: dict[int, LoweredPlan] = {}


def lower(plan: ViewPlan) -> LoweredPlan:
    """The lowered form of ``plan``, cached by identity (plans are immutable)."""
    found = _LOWERED.get(id(plan))
    if found is None or found.plan is not plan:
        if len(_LOWERED) > 1024:
            _LOWERED.clear()
        found = _LOWERED[id(plan)] = _lower(plan)
    return found
