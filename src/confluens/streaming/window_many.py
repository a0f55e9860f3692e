"""Window evaluation of many entities, each at its own times, in one pass.

Stream scoring asks for every feature of each entity of a micro-batch at its events'
times: thousands of entities with a few times each. :func:`evaluate_many` gives
exactly ``[evaluate_at_times(compiled, ev, times) for ev, times in entities]``
(window_batch.py), the same values of the same types, but pays the per-call costs
(array conversions, one search per delay and window, one aggregation call per
feature) once for the whole batch rather than once per entity:

- the entities' event times are laid end to end, each entity's shifted into a band
  of its own (``entity * width + t - base``, with ``width`` more than the batch's
  span of event times), so one ``searchsorted`` per bound finds every time's window
  within its own entity's events, a bound beyond the entity's events being clipped
  into its band first;
- the aggregations then run as in ``evaluate_at_times``, over the entities' columns
  laid end to end: each window is a slice ``[lo, hi)`` of one entity's events, and
  every aggregation is a function of its slice's values only (a sum from prefix sums
  where every value is an integer, else ``fsum`` or the aggregation's own function,
  the same values either way).

An entity whose windows are not all plain slices at its times (a filter, an event not
yet known at one of them), or whose times are too far out for the shifted bands, is
evaluated by ``evaluate_at_times`` on its own; so is every entity when the batch's
bands would not fit in 64 bits.

:func:`evaluate_many_columns` gives the same values as one list per feature, every
entity's times end to end (what stream scoring puts in the model's input matrix), so
no dict is made per time; ``evaluate_many`` makes its dicts from those columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from confluens.streaming.window_batch import (
    _aggregate,
    _in_range,
    evaluate_at_times,
    output_columns,
)
from confluens.streaming.window_events import CompiledPlan, EventColumns

__all__ = ["evaluate_many", "evaluate_many_columns", "placed"]

_BANDS = 2**62  # the shifted bands of every entity stay below this


def evaluate_many(compiled: CompiledPlan,
                  entities: Sequence[tuple[EventColumns, Sequence[int]]],
                  ) -> list[list[dict[str, Any]]]:
    """``[evaluate_at_times(compiled, ev, times) for ev, times in entities]`` (see
    the module docstring)."""
    names = [o[0] for o in compiled.outputs]
    if not names:
        return [[{} for _ in times] for _, times in entities]
    rows = iter(zip(*evaluate_many_columns(compiled, entities), strict=True))
    return [[dict(zip(names, next(rows), strict=True)) for _ in times]
            for _, times in entities]


def evaluate_many_columns(compiled: CompiledPlan,
                          entities: Sequence[tuple[EventColumns, Sequence[int]]],
                          ) -> list[list[Any]]:
    """The values of ``evaluate_many(compiled, entities)`` as columns, one per output
    (in ``compiled.outputs`` order), each holding every entity's values at its times,
    the entities laid end to end in the order given: no dict per time."""
    filtered = any(where is not None for *_, where in compiled.selections)
    parts: list[list[list[Any]] | None] = [None] * len(entities)
    together: list[int] = []
    for k, (ev, times) in enumerate(entities):
        if not times:
            continue
        if (filtered or not _in_range(compiled, times)
                or ev.unknown_at(min(times)) is not None):
            parts[k] = _as_columns(compiled, evaluate_at_times(compiled, ev, times))
        else:
            together.append(k)
    if len(together) == len(entities) and len(together) > 1:
        return _together(compiled, entities)  # the usual case: no part to join
    if len(together) == 1:
        ev, times = entities[together[0]]
        parts[together[0]] = _as_columns(compiled, evaluate_at_times(compiled, ev, times))
    elif together:
        columns = _together(compiled, [entities[k] for k in together])
        first = 0
        for k in together:
            count = len(entities[k][1])
            parts[k] = [c[first:first + count] for c in columns]
            first += count
    return [list(chain.from_iterable(p[j] for p in parts if p is not None))
            for j in range(len(compiled.outputs))]


def placed(columns: Sequence[Sequence[Any]], rows: Sequence[int], n: int,
           ) -> list[list[Any]]:
    """``columns`` (each value ``j`` the value of row ``rows[j]``) as ``n`` rows in
    order, None in the rows not given: the end-to-end values of ``evaluate_many_columns``
    put back in the order of the rows that asked for them."""
    if len(rows) == n:
        if all(i == j for i, j in enumerate(rows)):
            return [list(c) for c in columns]
        if n == 1:
            return [list(c) for c in columns]
        order = np.argsort(np.asarray(rows, dtype=np.int64), kind="stable").tolist()
        pick = itemgetter(*order)
        return [list(pick(c)) for c in columns]
    out: list[list[Any]] = []
    for c in columns:
        column: list[Any] = [None] * n
        for i, value in zip(rows, c, strict=True):
            column[i] = value
        out.append(column)
    return out


def _as_columns(compiled: CompiledPlan, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [[row[name] for row in rows] for name, *_ in compiled.outputs]


class _Joined:
    """Several entities' events laid end to end, read as one ``EventColumns`` by the
    aggregations (every slice they are given lies within one entity's events)."""

    def __init__(self, entities: Sequence[EventColumns]) -> None:
        self.entities = entities
        self._columns: dict[str, list[Any]] = {}

    @property
    def t(self) -> Sequence[int]:  # not read: the bounds are found before
        raise NotImplementedError

    def column(self, name: str) -> Sequence[Any]:
        found = self._columns.get(name)
        if found is None:
            found = self._columns[name] = list(chain.from_iterable(
                ev.column(name) for ev in self.entities))
        return found

    def values_of(self, name: str, lo: int, hi: int) -> Sequence[Any]:
        return self.column(name)[lo:hi]

    def has_nulls(self, name: str) -> bool:
        return any(ev.has_nulls(name) for ev in self.entities)

    def passes(self, where: str) -> Sequence[Any]:  # not read: no filters here
        raise NotImplementedError

    def unknown_at(self, at: int) -> Sequence[int] | None:
        return None  # every event known at every time (checked by evaluate_many)


def _together(compiled: CompiledPlan, entities: Sequence[tuple[EventColumns, Sequence[int]]],
              ) -> list[list[Any]]:
    """``evaluate_at_times`` of several entities (every event known at each time, no
    filter), in one pass, as columns (``evaluate_many_columns``)."""
    ts = [np.asarray(ev.t, dtype=np.int64) for ev, _ in entities]
    t = np.concatenate(ts)
    base, top = (int(t.min()) - 1, int(t.max())) if t.size else (-1, 0)
    width = top - base + 1  # a band: base (before every event) .. top
    if width * len(entities) >= _BANDS or base < -_BANDS or top > _BANDS:
        return _as_columns(compiled, [row for ev, times in entities
                                      for row in evaluate_at_times(compiled, ev, times)])
    sizes = [len(x) for x in ts]
    counts = [len(times) for _, times in entities]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    bands = np.arange(len(entities), dtype=np.int64) * width
    keys = np.repeat(bands, sizes) + (t - base)  # sorted: by entity, then time
    at = np.concatenate([np.asarray(times, dtype=np.int64) for _, times in entities])
    owner = np.repeat(np.arange(len(entities)), counts)
    band_of, start_of = bands[owner], starts[owner]

    def after(bound: np.ndarray) -> np.ndarray:
        """Per time, the index of the first of its entity's events after ``bound``."""
        found: np.ndarray = np.searchsorted(
            keys, band_of + (np.clip(bound, base, top) - base), "right")
        return found

    uppers = [at - d for d in compiled.delays]
    his = [after(u) for u in uppers]
    slices: list[tuple[list[int], list[int]]] = []
    for d, span, n, _ in compiled.selections:
        hi = his[d]
        lo = start_of if span is None else np.minimum(after(uppers[d] - span), hi)
        if n is not None:
            lo = np.maximum(lo, hi - n)
        slices.append((lo.tolist(), hi.tolist()))
    joined = _Joined([ev for ev, _ in entities])
    rows = range(len(at))
    seen: dict[tuple[str, str], Any] = {}
    values = [_aggregate(joined, slices[s], name, fn, rows, seen)
              for s, name, fn in compiled.aggregations]
    return output_columns(compiled, values)
