"""Window evaluation in plain Python over one entity's recent events.

The online store keeps, per entity, the events that can still fall in a window, and
evaluates every feature when it is read, at the time of the read. This module is
that evaluation: the same contract as the DuckDB compiler (docs/concepts.md),
written directly over columns sorted by (time, tie), with binary search for the
time bounds.

A view's lowered plan (``plan/ir.py``: :func:`~confluens.plan.ir.lower`) names each
distinct delay, (delay, window, filter) selection and aggregation once;
:func:`compile_plan` only attaches a Python function to each aggregation's kind. Each
delay gets one upper-bound search, each selection one selection of events, shared by
every aggregation over it. A
selection without filtered-out or not-yet-known events is a slice ``[lo, hi)`` of
the columns, aggregated without a Python loop over its events.

The events' derived columns and filter flags come with them: from the online state
(``plan/retention.py``) for reads, or, per micro-batch of a stream, from
``streaming/batch_events.py``, which evaluates ``derive`` and ``where`` with the Python
expression evaluator (``plan/expressions``), without DuckDB.

>>> from confluens.plan.ir import WindowAgg
>>> events = EntityEvents.of([(0, "1", 0, {"v": 5.0}, ()), (10, "2", 10, {"v": 7.0}, ())])
>>> agg = WindowAgg("s", "sum", "v", window_us=20, events=None, delay_us=0, where=None)
>>> evaluate(agg, events, at=15), evaluate(agg, events, at=25), evaluate(agg, events, at=40)
(12.0, 7.0, 0)
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from confluens.plan.ir import Kind, ViewPlan, WindowAgg, lower, require

__all__ = ["CompiledPlan", "EntityEvents", "EventColumns", "compile_plan", "evaluate",
           "evaluate_all", "evaluate_compiled"]

Row = tuple[int, str, int, dict[str, Any], Sequence[str]]


class EventColumns(Protocol):
    """What the evaluator reads of one entity's events (sorted by (time, tie))."""

    @property
    def t(self) -> Sequence[int]: ...

    def column(self, name: str) -> Sequence[Any]:
        """The values of ``name``, one per event, None where null."""

    def values_of(self, name: str, lo: int, hi: int) -> Sequence[Any]:
        """``column(name)[lo:hi]``, perhaps without unpacking the rest of the column."""

    def has_nulls(self, name: str) -> bool:
        """False only if ``column(name)`` surely holds no None."""

    def passes(self, where: str) -> Sequence[Any]:
        """Per event, whether it passes the filter ``where`` (truthy or not)."""

    def unknown_at(self, at: int) -> Sequence[int] | None:
        """None if every event is known at ``at``, else every event's known-at time."""


@dataclass(slots=True)
class EntityEvents:
    """One entity's events as columns, sorted by (time, tie).

    ``known`` is when each event became visible (its time where the source has no
    known_at); ``flags`` the filters (``where`` texts) each event passes.
    """

    t: list[int] = field(default_factory=list)
    tie: list[str] = field(default_factory=list)
    known: list[int] = field(default_factory=list)
    values: dict[str, list[Any]] = field(default_factory=dict)
    flags: list[frozenset[str]] = field(default_factory=list)
    late: bool = False  # some event became known after its time

    @classmethod
    def of(cls, rows: Iterable[Row]) -> EntityEvents:
        out = cls()
        for t, tie, known, values, flags in rows:
            out.t.append(t)
            out.tie.append(tie)
            out.known.append(known)
            for name, value in values.items():
                out.values.setdefault(name, []).append(value)
            out.flags.append(frozenset(flags))
            out.late = out.late or known > t
        return out

    def column(self, name: str) -> Sequence[Any]:
        found = self.values.get(name)
        return [None] * len(self.t) if found is None else found

    def values_of(self, name: str, lo: int, hi: int) -> Sequence[Any]:
        return self.column(name)[lo:hi]

    def has_nulls(self, name: str) -> bool:
        return True

    def passes(self, where: str) -> Sequence[Any]:
        return [where in f for f in self.flags] if self.flags else [False] * len(self.t)

    def unknown_at(self, at: int) -> Sequence[int] | None:
        return self.known if self.late and max(self.known) > at else None


# -- aggregations over the present (non-null) values of a selection -----------------

def _fsum(values: Iterable[float]) -> float:
    """An exact float sum of finite values; one that overflows is infinite, as in SQL
    (not an error). With non-finite values it is the IEEE sum, as in SQL: NaN where
    any value is NaN or where both infinities meet (``math.fsum`` raises there)."""
    values = list(values)
    try:
        return math.fsum(values)
    except (OverflowError, ValueError):  # ValueError: inf + -inf
        return sum(values)


def _fmean(values: Sequence[float]) -> float:
    """The mean, without overflow where the values' sum would overflow (std's centre,
    as SQL's stddev_samp, which accumulates it incrementally)."""
    total = _fsum(values)
    if math.isinf(total) and all(math.isfinite(v) for v in values):
        return math.fsum(v / len(values) for v in values)
    return total / len(values)


def _sum(present: Sequence[Any]) -> Any:
    return _fsum(present) if present and isinstance(present[0], float) else sum(present)


def _mean(present: Sequence[Any]) -> Any:
    return _fsum(present) / len(present) if present else None  # as SQL's avg: may overflow


def _has_nan(values: Iterable[Any]) -> bool:
    return any(v != v for v in values)  # only NaN differs from itself


def _min(present: Sequence[Any]) -> Any:
    """The least value; NaN is greater than every number (as in SQL), so it is the
    minimum only of NaNs. Python's ``min`` would depend on where the NaNs are."""
    if not present:
        return None
    least = min(present)
    if isinstance(least, float) and _has_nan(present):
        numbers = [v for v in present if v == v]
        return min(numbers) if numbers else least
    return least


def _max(present: Sequence[Any]) -> Any:
    """The greatest value; NaN is greater than every number (as in SQL)."""
    if not present:
        return None
    greatest = max(present)
    if isinstance(greatest, float) and _has_nan(present):
        return math.nan
    return greatest


def _last(present: Sequence[Any]) -> Any:
    return present[-1] if present else None


def _latest(values: Sequence[Any]) -> Any:
    return values[-1] if values else None  # called with nulls kept


def _std(present: Sequence[Any]) -> Any:
    if len(present) < 2:
        return None
    mean = _fmean(present)
    return math.sqrt(_fsum((v - mean) * (v - mean) for v in present) / (len(present) - 1))


def _distinct(present: Sequence[Any]) -> int:
    """The number of distinct values; every NaN is one value (as in SQL), though a
    set keeps each NaN object apart."""
    values = set(present)
    nans = sum(1 for v in values if v != v)
    return len(values) - nans + (nans > 0)


_FUNCTIONS: dict[Kind, Callable[[Sequence[Any]], Any]] = {
    Kind.COUNT: len, Kind.DISTINCT: _distinct, Kind.SUM: _sum, Kind.MEAN: _mean,
    Kind.MIN: _min, Kind.MAX: _max, Kind.LAST: _last, Kind.STD: _std,
    Kind.LATEST: _latest}


# -- the compiled plan ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CompiledPlan:
    """A lowered plan's slots as tuples, each aggregation with its Python function.

    - ``delays``: distinct delays; each gives the upper bound ``at - delay``.
    - ``selections``: distinct (delay slot, window length or None, event count or None,
      filter or None).
    - ``aggregations``: (selection slot, column or None, aggregate function).
    - ``outputs``: (name, aggregation slot, None, None) or, for a ratio,
      (name, numerator slot, denominator slot, empty value).
    """

    delays: tuple[int, ...]
    selections: tuple[tuple[int, int | None, int | None, str | None], ...]
    aggregations: tuple[tuple[int, str | None, Callable[[Sequence[Any]], Any]], ...]
    outputs: tuple[tuple[str, int, int | None, Any], ...]


def _compile(plan: ViewPlan) -> CompiledPlan:
    require(plan, "python", frozenset(_FUNCTIONS))
    low = lower(plan)
    return CompiledPlan(
        low.delays,
        tuple((s.delay, s.window_us, s.events, s.where) for s in low.selections),
        tuple((s, a.column, _FUNCTIONS[a.kind])
              for s, a in zip(low.selection_of, low.aggregations, strict=True)),
        tuple((o.name, o.value, o.denominator, o.empty) for o in low.outputs))


_COMPILED: dict[int, tuple[ViewPlan, CompiledPlan]] = {}


def compile_plan(plan: ViewPlan) -> CompiledPlan:
    """The compiled form of ``plan``, cached by identity (plans are immutable)."""
    cached = _COMPILED.get(id(plan))
    if cached is None or cached[0] is not plan:
        if len(_COMPILED) > 1024:
            _COMPILED.clear()
        cached = _COMPILED[id(plan)] = (plan, _compile(plan))
    return cached[1]


def evaluate_compiled(compiled: CompiledPlan, ev: EventColumns, at: int) -> dict[str, Any]:
    """Every feature of a compiled plan at time ``at`` (microseconds since the epoch)."""
    t = ev.t
    uppers = [at - d for d in compiled.delays]
    his = [bisect_right(t, u) for u in uppers]
    known = ev.unknown_at(at)
    # a selection is a (lo, hi) slice of the columns, or a list of event indexes
    chosen: list[tuple[int, int] | list[int]] = []
    for d, span, n, where in compiled.selections:
        hi = his[d]
        lo = 0 if span is None else bisect_right(t, uppers[d] - span, 0, hi)
        if where is None and (known is None or lo >= hi or max(known[lo:hi]) <= at):
            chosen.append((lo if n is None else max(lo, hi - n), hi))
            continue
        index: list[int] = list(range(lo, hi))
        if where is not None:
            ok = ev.passes(where)
            index = [i for i in index if ok[i]]
        if known is not None:
            index = [i for i in index if known[i] <= at]
        chosen.append(index if n is None else index[-n:])
    values: list[Any] = []
    for s, name, fn in compiled.aggregations:
        sel = chosen[s]
        if name is None:
            values.append(sel[1] - sel[0] if type(sel) is tuple else len(sel))
            continue
        present: Sequence[Any]
        if type(sel) is tuple:
            present = ev.values_of(name, sel[0], sel[1])
        else:
            column = ev.column(name)
            present = [column[i] for i in sel]
        if fn is not _latest and ev.has_nulls(name):
            present = [v for v in present if v is not None]
        values.append(fn(present))
    out: dict[str, Any] = {}
    for output, a, b, empty in compiled.outputs:
        if b is None:
            out[output] = values[a]
        else:
            den, num = values[b], values[a]
            out[output] = empty if not den else None if num is None else num / den
    return out


def evaluate(agg: WindowAgg, ev: EntityEvents, at: int) -> Any:
    """The value of ``agg`` at time ``at`` (microseconds since the epoch)."""
    single = ViewPlan(name="", keys=(), event_time="", tie="", derive=(), features=(agg,),
                      columns=())
    return evaluate_compiled(_compile(single), ev, at)[agg.output]


def evaluate_all(plan: ViewPlan, ev: EventColumns, at: int) -> dict[str, Any]:
    """Every feature of ``plan`` at time ``at``."""
    return evaluate_compiled(compile_plan(plan), ev, at)
