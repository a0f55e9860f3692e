"""The lookup engine: windows as rank ranges found by binary search over sorted events.

Every window of a view is a range of ranks ``(lo, hi]`` in its entity's event order
(``plan/duckdb.py`` states how). For count, sum, mean, last, min and max, the value over
a range needs no frame: with prefix arrays over the sorted events (running counts, running
sums, the position of the last valid value so far) it is two array reads. So:

1. DuckDB evaluates derived columns and filter flags (``plan/lookup_input.py``);
2. the events are sorted once by (entity, time, tie), the same total order the
   window compiler ranks by;
3. for every event or point, one vectorised binary search per distinct offset
   (delay, delay + window) over a composite (entity, time) key gives ``hi`` and ``lo``;
4. each aggregation is read off its prefix array.

Results equal the window compiler's: the same bounds, the same tie rule, the same
empty-window values. Integer sums are exact. Float sums are differences of compensated
running sums (each step's rounding error is recovered exactly and summed apart), so a
window's sum is accurate to its own last bits, not to the running total's.

Min and max read a sparse table (the extreme of every run of 2**k rows) in two lookups.
A ratio's parts may be counts, sums, means, mins or maxes.
Views with std or distinct counts, ratios over ``last``, or a known-at time go
to the window compiler instead (``supports``), and so do inputs the prefix forms
cannot take exactly: NaN or infinite values to sum, integer sums that could overflow,
points without a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from confluens.plan.ir import Kind, LoweredPlan, ViewPlan, WindowAgg, lower
from confluens.plan.lookup_input import compile_lookup_input, flag_names
from confluens.plan.lookup_order import order_by_entity_time, sort_by_entity_time
from confluens.plan.version import VERSION
from confluens.sqlx import render

__all__ = ["lookup_events", "lookup_input", "lookup_points", "supports"]

_SPARSE_BYTES = 1 << 30  # the most a min/max sparse table may take
_I64 = np.int64
_SAFE = 2**62


def supports(plan: ViewPlan) -> bool:
    """Whether every aggregation of ``plan`` has a prefix form (and no known-at time);
    a ratio's parts may be any kind with a prefix form but ``last`` (counts, sums,
    means, mins or maxes)."""
    low = lower(plan)
    ratio_parts = [low.aggregations[j] for out in low.outputs
                   if out.denominator is not None for j in (out.value, out.denominator)]
    return (plan.known_at is None
            and all("lookup" in a.kind.engines for a in low.aggregations)
            and all(a.kind not in (Kind.LAST, Kind.LATEST) for a in ratio_parts))


class _Unsupported(Exception):
    """Input the prefix forms cannot take exactly: the window compiler does it."""


def _numpy(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(column.to_numpy(zero_copy_only=False))


def _entities(table: pa.Table, keys: tuple[str, ...]
              ) -> tuple[np.ndarray, Callable[[pa.Table], np.ndarray], list[pa.Array]]:
    """A dense entity number per event, a function numbering other rows' keys (-1 for
    entities without events), and each key's distinct values. Null keys are one
    entity, as in PARTITION BY. With one key, an entity's number is its value's
    position among the distinct values."""
    dictionaries, code, sizes = [], np.zeros(table.num_rows, dtype=_I64), 1
    for k in keys:
        encoded = pc.dictionary_encode(table.column(k).combine_chunks(), null_encoding="encode")
        dictionaries.append(encoded.dictionary)
        sizes *= max(len(encoded.dictionary), 1)
        if sizes >= _SAFE:
            raise _Unsupported("too many key combinations")
        code = code * len(encoded.dictionary) + _numpy(encoded.indices).astype(_I64)
    unique: np.ndarray | None = None
    if len(keys) > 1:
        unique, code = np.unique(code, return_inverse=True)

    def number(rows: pa.Table) -> np.ndarray:
        out = np.zeros(rows.num_rows, dtype=_I64)
        known = np.ones(rows.num_rows, dtype=bool)
        for k, dictionary in zip(keys, dictionaries, strict=True):
            column = rows.column(k)
            if column.type != dictionary.type:
                try:
                    column = pc.cast(column, dictionary.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    raise _Unsupported("key types differ") from None
            index = pc.index_in(column, value_set=dictionary, skip_nulls=False)
            known &= _numpy(pc.is_valid(index))
            out = out * len(dictionary) + _numpy(pc.fill_null(index, 0)).astype(_I64)
        if unique is not None:
            at = np.clip(np.searchsorted(unique, out), 0, max(len(unique) - 1, 0))
            known &= unique[at] == out
            out = at
        return np.where(known, out, -1)

    return code, number, dictionaries


def _tie_keys(table: pa.Table, rows: np.ndarray) -> list[np.ndarray]:
    """The keys ordering ``rows`` (input positions) of equal time, least significant
    first (as ``np.lexsort`` takes them): ``__tie``, then the version ``__v`` where
    there is one."""
    taken = pa.array(rows)
    column = table.column("__tie").take(taken)
    if pa.types.is_integer(column.type):
        tie = _numpy(column).astype(_I64)
    else:
        tie = _numpy(pc.rank(column, sort_keys="ascending", tiebreaker="dense")).astype(_I64)
    if VERSION not in table.column_names:
        return [tie]
    return [tie, _numpy(table.column(VERSION).take(taken)).astype(_I64)]


class _Events:
    """The events sorted by (entity, time, tie), and prefix arrays built on demand."""

    def __init__(self, plan: ViewPlan, table: pa.Table) -> None:
        self.table = table
        self.flags = flag_names(plan)
        entity, self.number, self.dictionaries = _entities(table, plan.keys)
        time = _numpy(table.column("__t")).astype(_I64)
        self.tmin = int(time.min())
        # event times map to 1..span-1; probes clip to 0..span-1, so 0 is "before all"
        self.span = int(time.max()) - self.tmin + 2
        entities = int(entity.max()) + 1
        if entities * self.span >= _SAFE:
            raise _Unsupported("entities x time span too large")
        self.order, self.entity, self.time = sort_by_entity_time(
            entity, entities, time, lambda rows: _tie_keys(table, rows))
        self.composite = self.entity * self.span
        self.composite += self.time - (self.tmin - 1)
        self.starts = np.searchsorted(self.entity, np.arange(entities, dtype=_I64))
        self.cache: dict[tuple[object, ...], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.time)

    def sorted_column(self, name: str) -> np.ndarray:
        key = ("column", name)
        if key not in self.cache:
            self.cache[key] = _numpy(self.table.column(name))[self.order]
        return self.cache[key]

    def passing(self, where: str | None) -> np.ndarray | None:
        """The sorted rows passing filter ``where``; None: every row (no filter)."""
        if where is None:
            return None
        return self.cached(("flag", where),
                           lambda: self.sorted_column(self.flags[where]).astype(bool))

    def valid(self, agg: WindowAgg) -> np.ndarray | None:
        """The sorted rows ``agg`` takes: passing its filter, with a value; None: all."""
        mask = self.passing(agg.where)
        if agg.column is None or not self.table.column(agg.column).null_count:
            return mask
        column = self.table.column(agg.column)
        present = self.cached(("valid", agg.column),
                              lambda: _numpy(pc.is_valid(column))[self.order])
        return present if mask is None else self.cached(
            ("valid", agg.column, agg.where), lambda: mask & present)

    def numbers(self, name: str) -> np.ndarray:
        """A value column in sorted order, nulls as 0, for exact running sums."""
        key = ("numbers", name)
        if key not in self.cache:
            column = self.table.column(name)
            if pa.types.is_integer(column.type) or pa.types.is_boolean(column.type):
                values = _numpy(pc.fill_null(column, 0)).astype(_I64)
                if len(values) and int(np.abs(values).max()) * len(values) >= _SAFE:
                    raise _Unsupported("integer sums could overflow")
            elif pa.types.is_floating(column.type):
                values = _numpy(pc.fill_null(column, 0.0)).astype(np.float64)
                if not np.isfinite(values).all() or (
                        len(values) and float(np.abs(values).max()) * len(values) > 1e300):
                    # NaN or infinity would spread through the running sums (and a
                    # running sum could overflow): the window compiler keeps them local
                    raise _Unsupported("non-finite or huge float values")
            else:
                raise _Unsupported(f"cannot sum {column.type}")
            self.cache[key] = values[self.order]
        return self.cache[key]

    def cached(self, key: tuple[object, ...], make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def prefix(self, key: tuple[object, ...], values: Callable[[], np.ndarray]) -> np.ndarray:
        """Running totals with a leading 0: ``out[k]`` sums sorted rows ``< k``."""
        if key not in self.cache:
            row = values()
            out = np.zeros(len(row) + 1, dtype=row.dtype)
            np.cumsum(row, out=out[1:])
            self.cache[key] = out
        return self.cache[key]

    def rows_up_to(self, entity: np.ndarray, time: np.ndarray, offset: int,
              found: dict[int, np.ndarray]) -> np.ndarray:
        """Per probe: the sorted position just after its entity's last event at or
        before ``time - offset`` (kept in ``found``, per offset, for these probes)."""
        if offset not in found:
            key = time - (offset + self.tmin - 1)
            np.clip(key, 0, self.span - 1, out=key)
            key += entity * self.span
            found[offset] = np.searchsorted(self.composite, key, side="right")
        return found[offset]


_OWN = -1  # in ``found``: the sorted position just after each probe that is an event


def _bounds(ev: _Events, agg: WindowAgg, entity: np.ndarray, time: np.ndarray,
            own: bool, found: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted row ranges ``[lo, hi)`` of each probe's window. With ``own``, the probes
    are sorted events (``found[_OWN]``: the position after each), which see ties only
    up to themselves."""
    if own and agg.delay_us == 0:
        hi = found[_OWN]
    else:
        hi = ev.rows_up_to(entity, time, agg.delay_us, found)
    if agg.lookback_us is not None:
        return ev.rows_up_to(entity, time, agg.lookback_us, found), hi
    start = ev.starts[entity]
    n = int(agg.events)  # type: ignore[arg-type]
    if agg.where is None:
        return np.maximum(hi - n, start), hi
    passing = ev.passing(agg.where)
    assert passing is not None
    before = ev.prefix(("passing", agg.where), lambda: passing.astype(_I64))
    positions = ev.cached(("positions", agg.where), lambda: np.flatnonzero(passing))
    if len(positions) == 0:
        return start, hi
    counted = before[hi] - before[start]
    nth = np.clip(before[hi] - n - 1, 0, len(positions) - 1)
    return np.where(counted <= n, start, positions[nth] + 1), hi


def _aggregate(ev: _Events, agg: WindowAgg, lo: np.ndarray, hi: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """(values, valid) of ``agg`` over sorted rows ``[lo, hi)``; for ``last``, the
    values are row numbers in the input table."""
    # latest: the latest passing row, its value null or not
    valid_rows = ev.passing(agg.where) if agg.kind is Kind.LATEST else ev.valid(agg)
    if agg.kind in (Kind.LAST, Kind.LATEST):
        key = (agg.kind, agg.column, agg.where)
        if key not in ev.cache:  # the sorted position of the latest valid row so far
            rows = np.arange(len(ev), dtype=_I64)
            ev.cache[key] = rows if valid_rows is None else np.maximum.accumulate(
                np.where(valid_rows, rows, -1))
        latest = ev.cache[key][np.maximum(hi - 1, 0)]
        found = (hi > lo) & (latest >= lo)
        return ev.order[np.where(found, latest, 0)], found
    if valid_rows is None:
        count = hi - lo
    else:
        counts = ev.prefix(("count", agg.column, agg.where), lambda: valid_rows.astype(_I64))
        count = counts[hi] - counts[lo]
    everywhere = np.ones(len(count), dtype=bool)
    if agg.kind is Kind.COUNT:
        return count, everywhere
    if agg.kind in (Kind.MIN, Kind.MAX):
        table = ev.cached(("sparse", agg.kind, agg.column, agg.where),
                        lambda: _sparse_table(ev, agg, valid_rows))
        return _range_extreme(table, agg.kind, lo, hi), count > 0
    values = ev.numbers(agg.column)  # type: ignore[arg-type]
    sum_key = ("sum", agg.column, agg.where)
    added = values if valid_rows is None else ev.cached(
        sum_key, lambda: np.where(valid_rows, values, values.dtype.type(0)))
    sums = ev.prefix(("running", *sum_key), lambda: added)
    total = sums[hi] - sums[lo]
    if total.dtype != _I64:  # add back what the running sum rounded away
        rounding = ev.prefix(("rounding", *sum_key), lambda: _rounding(sums, added))
        total += rounding[hi] - rounding[lo]
    if agg.kind is Kind.SUM:
        return total, everywhere
    return total / np.maximum(count, 1), count > 0


def _sparse_table(ev: _Events, agg: WindowAgg, valid_rows: np.ndarray | None
                  ) -> np.ndarray:
    """Row k holds the min (or max) of each run of 2**k sorted rows from each position:
    any range's extreme is then the extreme of two overlapping runs."""
    column = ev.table.column(agg.column)
    dtype: np.dtype[Any]
    filler: float
    if pa.types.is_integer(column.type):
        values, dtype = _numpy(pc.fill_null(column, 0)).astype(_I64), np.dtype(_I64)
        filler = np.iinfo(_I64).max if agg.kind is Kind.MIN else np.iinfo(_I64).min
    elif pa.types.is_floating(column.type):
        values = _numpy(pc.fill_null(column, 0.0)).astype(np.float64)
        dtype = np.dtype(np.float64)
        if np.isnan(values).any():  # NaN ordering differs between engines: leave it to SQL
            raise _Unsupported("NaN in min/max")
        filler = np.inf if agg.kind is Kind.MIN else -np.inf
    else:
        raise _Unsupported(f"min/max of {column.type}")
    n = len(values)
    levels = max(1, int(n).bit_length())
    if levels * max(n, 1) * dtype.itemsize > _SPARSE_BYTES:
        raise _Unsupported("min/max table too large")
    pick = np.minimum if agg.kind is Kind.MIN else np.maximum
    table = np.empty((levels, n), dtype=dtype)
    table[0] = values[ev.order] if valid_rows is None else np.where(
        valid_rows, values[ev.order], filler)
    for k in range(1, levels):
        width = 1 << (k - 1)
        table[k, : n - width] = pick(table[k - 1, : n - width], table[k - 1, width:])
        table[k, n - width:] = table[k - 1, n - width:]
    return table


def _range_extreme(table: np.ndarray, kind: Kind, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The min (or max) of sorted rows ``[lo, hi)`` per probe (anything where empty)."""
    length = np.maximum(hi - lo, 1)
    level = np.frexp(length.astype(np.float64))[1].astype(_I64) - 1  # floor(log2(length))
    start = np.minimum(lo, table.shape[1] - 1)
    end = np.maximum(hi - (1 << level), 0)
    pick = np.minimum if kind is Kind.MIN else np.maximum
    extreme: np.ndarray = pick(table[level, start], table[level, end])
    return extreme


def _rounding(sums: np.ndarray, added: np.ndarray) -> np.ndarray:
    """What each step of the float running sum rounded away (TwoSum, exact).

    ``np.cumsum`` adds in sequence, so ``sums[k + 1] = fl(sums[k] + added[k])``. The
    running total of these errors plus ``sums`` is the prefix sum to about twice the
    working precision, so a window's sum is accurate to its own last bits rather than
    to the running total's.
    """
    before, after = sums[:-1], sums[1:]
    seen = after - before
    lost: np.ndarray = (before - (after - seen)) + (added - seen)
    return lost


def _arrow(values: np.ndarray, valid: np.ndarray, back: np.ndarray | None) -> pa.Array:
    """The values in the probes' original order (``back``; None: in sorted order),
    nulls where not valid."""
    if back is not None:
        values, valid = values[back], valid[back]
    return pa.array(values, mask=None if valid.all() else ~valid)


def _taken(column: pa.ChunkedArray, rows: np.ndarray, found: np.ndarray,
           back: np.ndarray | None) -> pa.Array:
    """``column`` at input rows ``rows``, in the order ``back`` (None: as they are);
    null where not found."""
    if back is not None:
        rows, found = rows[back], found[back]
    values = column.take(pa.array(rows))
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    ok = found
    return values if ok.all() else pc.if_else(pa.array(ok), values,
                                                pa.nulls(len(values), values.type))


_CHUNK = 1 << 17  # probes per pass: temporaries stay small and are reused


def _features(ev: _Events, low: LoweredPlan, entity: np.ndarray, time: np.ndarray,
              own: np.ndarray | None, back: np.ndarray | None) -> dict[str, pa.Array]:
    """Every feature of the lowered plan per sorted probe, returned in the order
    ``back`` picks (None: the probes' own); probes with entity -1 see no events.

    Probes go in chunks, each chunk's aggregations and outputs (ratios included)
    computed while its temporaries are in the cache, into one array per output.
    """
    n = len(entity)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for first in range(0, max(n, 1), _CHUNK):  # no probes: one empty pass gives the types
        part = slice(first, min(n, first + _CHUNK))
        known = entity[part] >= 0
        everywhere = bool(known.all())
        safe = entity[part] if everywhere else np.where(known, entity[part], 0)
        found: dict[int, np.ndarray] = {}
        if own is not None:
            found[_OWN] = own[part] + 1
        computed = []
        for agg in low.aggregations:
            lo, hi = _bounds(ev, agg, safe, time[part], own is not None, found)
            if not everywhere:
                lo, hi = np.where(known, lo, 0), np.where(known, hi, 0)
            computed.append(_aggregate(ev, agg, lo, hi))
        for j, f in enumerate(low.outputs):
            values, valid = (computed[f.value] if f.denominator is None else
                             _ratio(computed[f.value], computed[f.denominator], f.empty))
            if j == len(out):
                out.append((np.empty(n, dtype=values.dtype), np.empty(n, dtype=bool)))
            out[j][0][part] = values
            out[j][1][part] = valid
    features: dict[str, pa.Array] = {}
    for f, (values, valid) in zip(low.outputs, out, strict=True):
        agg = low.aggregations[f.value]
        if f.denominator is None and agg.kind in (Kind.LAST, Kind.LATEST):
            features[f.name] = _taken(ev.table.column(agg.column), values, valid, back)
        else:
            features[f.name] = _arrow(values, valid, back)
    return features


def _ratio(num: tuple[np.ndarray, np.ndarray], den: tuple[np.ndarray, np.ndarray],
           empty_value: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(values, valid) of ``num / den``: ``empty_value`` (None: null) where the
    denominator is 0 or null."""
    den_f = np.asarray(den[0], dtype=np.float64)
    empty = den_f == 0
    if not den[1].all():
        empty |= ~den[1]
    if not empty.any():
        return np.asarray(num[0], dtype=np.float64) / den_f, num[1]
    value = np.asarray(num[0], dtype=np.float64) / np.where(empty, 1.0, den_f)
    value[empty] = 0.0 if empty_value is None else empty_value
    valid = num[1].copy()
    valid[empty] = empty_value is not None
    return value, valid


def _inverse(order: np.ndarray) -> np.ndarray:
    back = np.empty_like(order)
    back[order] = np.arange(len(order), dtype=order.dtype)
    return back


_BLOCK = 1 << 20  # points evaluated per block


def _probe_order(entity: np.ndarray, time: np.ndarray, entities: int) -> np.ndarray:
    """The order sorting probes by (entity, time); entity -1 (unknown) first."""
    return order_by_entity_time(entity + 1, entities + 1, time, None)


def _by_point(ids: np.ndarray) -> np.ndarray | None:
    """The order putting rows by point id; None when they already are."""
    if np.all(ids[1:] > ids[:-1]):
        return None
    n = len(ids)
    if n and ids.min() == 0 and ids.max() == n - 1 and np.bincount(ids, minlength=n).max() == 1:
        return _inverse(ids)  # a permutation of 0..n-1: no sort needed
    return np.argsort(ids, kind="stable")


def lookup_input(plan: ViewPlan, con: duckdb.DuckDBPyConnection,
                 only: str | None = None) -> pa.Table:
    """The engine's input (``plan/lookup_input.py``) from the ``events`` registered on
    ``con``, with column ``only`` passed through."""
    query = compile_lookup_input(plan, "events", extra=[] if only is None else [only])
    return con.sql(render(query)).to_arrow_table()


def _input(plan: ViewPlan, table: pa.Table) -> _Events | None:
    return _Events(plan, table) if table.num_rows else None


def lookup_events(plan: ViewPlan, table: pa.Table,
                  only: str | None = None) -> pa.Table | None:
    """Every feature at every event of ``table``, the engine's input (``lookup_input``,
    ``read_lookup_input``): keys, event time, ``__tie``, features; or only at the
    events where its boolean column ``only`` is true; None when the window compiler
    must do it.

    Rows come sorted by (entity, time, tie): the order the engine computes in, so no
    feature column is gathered back into the input's order.
    """
    try:
        ev = _input(plan, table)
        if ev is None:
            return None
        own = None if only is None else np.flatnonzero(ev.sorted_column(only).astype(bool))
        if own is None:
            entity, time = ev.entity, ev.time
            probes = np.arange(len(ev), dtype=_I64)
        else:
            entity, time, probes = ev.entity[own], ev.time[own], own
        features = _features(ev, lower(plan), entity, time, probes, None)
    except _Unsupported:
        return None
    return pa.table({**_event_columns(plan, ev, entity, time, own), **features})


def _event_columns(plan: ViewPlan, ev: _Events, entity: np.ndarray, time: np.ndarray,
                   own: np.ndarray | None) -> dict[str, pa.Array | pa.ChunkedArray]:
    """The keys, event time and ``__tie`` of the sorted events at positions ``own``
    (None: all of them), built from the sorted numbers where they can be."""
    rows = ev.order if own is None else ev.order[own]
    taken = pa.array(rows)
    if len(plan.keys) == 1:  # the entity number is the key's position among its values
        keys = {plan.keys[0]: ev.dictionaries[0].take(pa.array(entity))}
    else:
        keys = {k: ev.table.column(k).take(taken) for k in plan.keys}
    stamp = ev.table.column("__ts").type
    if pa.types.is_timestamp(stamp) and stamp.unit == "us":  # __t is this time in µs
        at: pa.Array | pa.ChunkedArray = pa.array(time).view(stamp)
    else:
        at = ev.table.column("__ts").take(taken)
    return {**keys, plan.event_time: at, "__tie": ev.table.column("__tie").take(taken)}


def lookup_points(plan: ViewPlan, table: pa.Table,
                  points: pa.Table) -> pa.Table | None:
    """Every feature at each row of ``points(<keys>, __at, __point)``, by ``__point``,
    over the events of ``table``, the engine's input; None when the window compiler
    must do it."""
    try:
        ev = _input(plan, table)
        if ev is None:
            return None
        at = points.column("__at")
        if at.null_count:
            raise _Unsupported("points without a time")
        entity = ev.number(points)
        time = _numpy(pc.cast(at, pa.timestamp("us", tz="UTC")).cast(pa.int64())).astype(_I64)
        point_ids = _numpy(points.column("__point")).astype(_I64)
        by_point = _by_point(point_ids)
        if by_point is not None:
            point_ids, entity, time = point_ids[by_point], entity[by_point], time[by_point]
        parts: dict[str, list[pa.Array]] = {}
        for first in range(0, max(len(time), 1), _BLOCK):  # sorts, gathers stay in cache
            block = slice(first, first + _BLOCK)
            order = _probe_order(entity[block], time[block], len(ev.starts))
            found = _features(ev, lower(plan), entity[block][order], time[block][order], None,
                              _inverse(order))
            for name, values in found.items():
                parts.setdefault(name, []).append(values)
    except _Unsupported:
        return None
    features = {name: pa.chunked_array(chunks) for name, chunks in parts.items()}
    return pa.table({"__point": pa.array(point_ids), **features})
