"""Window evaluation of one entity's events at many times at once.

Stream scoring asks for every feature of an entity at each of its events' times
(``held_reads.py`` over the processor's state, ``project/online_state.py`` over the
online store). :func:`evaluate_at_times` gives exactly
``[evaluate_compiled(compiled, ev, at) for at in times]`` (``window_events.py``), the
same values of the same types, but finds every time's window bounds with one
``searchsorted`` per delay and window over the sorted event times, and aggregates
without the per-time bookkeeping:

- a count of events is ``hi - lo`` for all times at once;
- ``latest`` (and ``last``, ``count`` of a column without nulls) reads one value;
- every other aggregation calls the same function ``evaluate_compiled`` calls, on the
  same slice of values.

A time at which some selection is not a plain slice of the events (a filter, or an
event of the slice not yet known at that time) is evaluated by ``evaluate_compiled``
itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate
from math import fsum
from typing import Any

import numpy as np

from confluens.streaming.window_events import (
    CompiledPlan,
    EventColumns,
    _last,
    _latest,
    _mean,
    _sum,
    evaluate_compiled,
)

__all__ = ["evaluate_at_times", "output_columns"]

_FEW = 4  # fewer times than this: evaluated one by one
_SAFE = 2**61  # times (µs) within +-this keep every bound inside int64


def evaluate_at_times(compiled: CompiledPlan, ev: EventColumns, times: Sequence[int],
                      ) -> list[dict[str, Any]]:
    """``[evaluate_compiled(compiled, ev, at) for at in times]`` (see the module
    docstring)."""
    if len(times) < _FEW or not _in_range(compiled, times):
        return [evaluate_compiled(compiled, ev, at) for at in times]
    t = np.asarray(ev.t, dtype=np.int64)
    at = np.asarray(times, dtype=np.int64)
    known = ev.unknown_at(min(times))  # None: every event known at every one of times
    unknown = None if known is None else np.array(
        [ev.unknown_at(a) is not None for a in times], dtype=bool)
    uppers = [at - d for d in compiled.delays]
    his = [np.searchsorted(t, u, "right") for u in uppers]
    exact = np.ones(len(times), dtype=bool)  # times where every selection is a slice
    slices: list[tuple[list[int], list[int]]] = []
    for d, span, n, where in compiled.selections:
        hi = his[d]
        lo = (np.zeros_like(hi) if span is None
              else np.minimum(np.searchsorted(t, uppers[d] - span, "right"), hi))
        if where is not None:
            exact[:] = False
        elif known is not None and unknown is not None:
            exact &= _all_known(known, unknown, lo, hi, at)
        if n is not None:
            lo = np.maximum(lo, hi - n)
        slices.append((lo.tolist(), hi.tolist()))
    if not exact.any():
        return [evaluate_compiled(compiled, ev, at) for at in times]
    rows = np.flatnonzero(exact).tolist() if not exact.all() else range(len(times))
    seen: dict[tuple[str, str], Any] = {}  # per column: its type check, its prefix sums
    values = [_aggregate(ev, slices[s], name, fn, rows, seen)
              for s, name, fn in compiled.aggregations]
    names = [o[0] for o in compiled.outputs]
    out: list[dict[str, Any]] = [dict(zip(names, row, strict=True)) for row in zip(
        *output_columns(compiled, values), strict=True)]
    if len(out) == len(times):
        return out
    full: list[dict[str, Any]] = []
    done = iter(out)
    for i, ok in enumerate(exact.tolist()):
        full.append(next(done) if ok else evaluate_compiled(compiled, ev, times[i]))
    return full


def output_columns(compiled: CompiledPlan, values: list[list[Any]]) -> list[list[Any]]:
    """Each output's values (in ``compiled.outputs`` order) from each aggregation's
    (``values``, in ``compiled.aggregations`` order): a ratio as ``evaluate_compiled``
    makes it."""
    columns: list[list[Any]] = []
    for _, a, b, empty in compiled.outputs:
        if b is None:
            columns.append(values[a])
        else:
            columns.append([empty if not den else None if num is None else num / den
                            for num, den in zip(values[a], values[b], strict=True)])
    return columns


def _in_range(compiled: CompiledPlan, times: Sequence[int]) -> bool:
    reach = max((abs(d) for d in compiled.delays), default=0) + max(
        (abs(s) for _, s, _, _ in compiled.selections if s is not None), default=0)
    return min(times) - reach > -_SAFE and max(times) + reach < _SAFE


def _all_known(known: Sequence[int], unknown: np.ndarray, lo: np.ndarray, hi: np.ndarray,
               at: np.ndarray) -> np.ndarray:
    """Per time, whether every event of its slice ``[lo, hi)`` is known at it
    (``unknown``: whether the events' ``unknown_at`` that time is not None)."""
    out = ~unknown | (lo >= hi)
    for i in np.flatnonzero(~out).tolist():
        out[i] = max(known[int(lo[i]):int(hi[i])]) <= int(at[i])
    return out


def _aggregate(ev: EventColumns, bounds: tuple[list[int], list[int]], name: str | None,
               fn: Any, rows: Sequence[int], seen: dict[tuple[str, str], Any]) -> list[Any]:
    """One aggregation's value at each of ``rows`` (indexes of the times), over each
    time's slice, as ``evaluate_compiled`` computes it."""
    lo, hi = bounds
    if name is None:  # the number of events
        return [hi[i] - lo[i] for i in rows]
    column = ev.column(name)
    nulls = seen.get((name, "nulls"))
    if nulls is None:  # a column said to have nulls may hold none: filtering is a no-op
        nulls = seen[name, "nulls"] = ev.has_nulls(name) and None in column
    if fn is _latest or (not nulls and fn is _last):
        return [column[hi[i] - 1] if hi[i] > lo[i] else None for i in rows]
    if fn is len and not nulls:
        return [hi[i] - lo[i] for i in rows]
    if not nulls and (fn is _mean or fn is _sum):
        fast = _sum_or_mean(name, column, lo, hi, fn, rows, seen)
        if fast is not None:
            return fast
    values_of = ev.values_of
    if nulls:
        return [fn([v for v in values_of(name, lo[i], hi[i]) if v is not None])
                for i in rows]
    return [fn(values_of(name, lo[i], hi[i])) for i in rows]


def _sum_or_mean(name: str, column: Sequence[Any], lo: list[int], hi: list[int], fn: Any,
                 rows: Sequence[int], seen: dict[tuple[str, str], Any]) -> list[Any] | None:
    """``_sum`` or ``_mean`` of each slice of a column without nulls, as those compute
    it: an exact sum of integers from prefix sums (Python integers: exact); a float
    sum or a mean with ``math.fsum`` over the slice. None where that does not apply
    (the caller then calls ``fn`` on each slice): a sum of other values, or a
    non-finite float sum (``_fsum``'s own fallback)."""
    if fn is _sum and _every(seen, name, column, int):
        prefix = seen.get((name, "prefix"))
        if prefix is None:
            prefix = seen[name, "prefix"] = [0, *accumulate(column)]
        return [prefix[hi[i]] - prefix[lo[i]] for i in rows]
    try:
        if fn is _mean:
            return [fsum(column[lo[i]:hi[i]]) / (hi[i] - lo[i]) if hi[i] > lo[i] else None
                    for i in rows]
        if _every(seen, name, column, float):
            return [fsum(column[lo[i]:hi[i]]) if hi[i] > lo[i] else 0 for i in rows]
    except (OverflowError, ValueError):
        pass
    return None


def _every(seen: dict[tuple[str, str], Any], name: str, column: Sequence[Any],
           kind: type) -> bool:
    """Whether every value of ``column`` is exactly of type ``kind`` (cached in
    ``seen`` for the column)."""
    found = seen.get((name, kind.__name__))
    if found is None:
        found = seen[name, kind.__name__] = all(type(v) is kind for v in column)
    return bool(found)
