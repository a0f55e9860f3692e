"""The window state of one feature view inside a stream processor, per entity.

A stream processor keeps, per entity, the same events the online state keeps
(``plan/retention.py``): those that can still fall in a window. For each micro-batch
of a source's accepted events it asks :class:`ViewState` which entities the batch
touches (:meth:`~ViewState.keys_of`), loads those it does not hold yet from the
online store (:meth:`~ViewState.missing`, :meth:`~ViewState.load`), merges the batch
(:meth:`~ViewState.add`), and writes what :meth:`~ViewState.blobs` gives back: each
touched entity's value, pruned at the watermark, in the format ``confluens
materialize`` writes (``streaming/stored_state.py``), so ``read_online`` reads it
unchanged.

**Event order and late events.** Events are held in event order: time, then version
(a null version first), then id in the id's own order (integer ids as integers).
Events may arrive in any order, within a batch and across batches: a late event is
placed among the held ones. One that no window can see any more at the watermark is
left out at once, as if it had arrived in time.

**Idempotence.** Adding an event whose id the entity holds changes nothing, so a
batch replayed after a crash (at-least-once delivery) gives the same state. An event
already left out and replayed is left out again at the next :meth:`~ViewState.blobs`
(it is behind the same events it was behind before), and the state is again the same.
(Ids are those of the source's ``id`` column, or the content hash where it has none.)

**Pruning at the watermark.** :meth:`~ViewState.blobs` prunes each entity at the
watermark h (the latest event time the processor accepted): kept are the events
after ``h`` minus the longest delay + window, those not yet known at h, and the
events that a count window or a ``latest`` value may still take
(``streaming/retention.py``). Pruning again at every batch keeps exactly what one
pruning of the entity's whole history at the latest watermark keeps, in any arrival
order. The horizon never goes back: a lower one is taken as the latest given before
or found in a loaded value (materialize's latest event time, say). Reads at
or after h are exact. Reads before h are exact from the entity's earliest exact read
time on (``streaming/exact_reads.py``), computed as materialize computes it, from
the latest left-out event ever (kept in the stored value, so a stored state adopted
by :meth:`~ViewState.load` combines with later prunes exactly) and the kept events;
earlier reads are refused (``InputError``), never answered wrongly. So the value
written after any sequence of loads, batches and prunes equals the one ``confluens
materialize`` writes for the same events at the same horizon, byte for byte.

**Memory.** Between batches an entity costs its stored value (one ``bytes``) and its
key in a dict: about 250 bytes (the value's envelope, header and column directory,
the ``bytes`` object, the key and its dict slot), plus per event 8 bytes of time, 4
bytes plus the id's text, 8 bytes of version (versioned sources), 8 bytes of known-at
time (only while some held event is known after its time), per aggregated column 8
bytes (1 for booleans; 4 plus the text for strings) and a null byte if any is null,
and per filter 1 byte. An entity a batch touches is unpacked into Python lists until
:meth:`~ViewState.blobs` packs it again; it packs the touched entities together
(``held_events.seal_many``), up to 65,536 events at a time, which costs a few MiB more
while it runs (over 100,000 events of the fraud template: a peak of 16 MiB above its
start against 5 MiB packing one entity at a time, measured with tracemalloc). The
most recently written entities also stay unpacked, up to about ``live_bytes`` (64 MiB
by default; about 900 bytes per entity plus 24 per event and column, measured with
tracemalloc), so that a batch touching
them again skips unpacking their stored value: with small batches (a stream at low
rate) unpacking took about a third of the state's time. The least recently
written go first; views with JSON-packed columns (dates, timestamps, read back as
text) keep none. :meth:`~ViewState.forget` drops entities (they are loaded again when
next touched). A ``ViewState`` is not thread-safe.

>>> from datetime import UTC, datetime
>>> import pyarrow as pa
>>> from confluens.core import Count, Entity, FeatureView, Source
>>> from confluens.plan.ir import plan_view
>>> from confluens.streaming.stored_state import decode_state, open_state
>>> tx = Source("tx", {"id": "int64", "ts": "timestamp", "c": "string"}, "ts", id="id")
>>> state = ViewState(plan_view(FeatureView("v", Entity("c", ["c"]), tx,
...                                          [Count(window="1h")])))
>>> at = lambda h: datetime(2024, 1, 1, h, tzinfo=UTC)
>>> batch = pa.table({"id": [2, 1], "c": ["x", "x"], "ts": [at(3), at(1)]})
>>> keys = state.keys_of(batch)
>>> for key in state.missing(keys):
...     state.load(key, None)  # nothing stored yet
>>> sorted(state.add(batch)), sorted(state.add(batch))  # the replay changes nothing
(['["x"]'], ['["x"]'])
>>> hour = 3_600_000_000
>>> blob = state.blobs(['["x"]'], horizon_us=int(at(3).timestamp()) * 1_000_000)['["x"]']
>>> decode_state(blob).tie  # the event at 1:00 is out of every window from 3:00 on
['2']
>>> (open_state(blob, "v").earliest - 1_000_000 * int(at(0).timestamp())) // hour
2
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from confluens.errors import InputError, SchemaMismatchError
from confluens.plan.expressions import bind
from confluens.plan.expressions.evaluate_python import derive_and_filter
from confluens.plan.ir import ViewPlan, lower
from confluens.plan.version import OLDEST
from confluens.streaming.held_events import HeldEvents, held_slices, seal_many
from confluens.streaming.held_reads import feature_columns_many, features_at_many
from confluens.streaming.stored_state import entity_key, open_state, value_kinds
from confluens.streaming.window_many import placed

__all__ = ["LIVE_BYTES", "ViewState", "entity_keys"]

LIVE_BYTES = 64 * 2**20  # what a view's entities kept unpacked may cost (see Memory)
_ENTITY_BYTES = 900  # an unpacked entity, measured with tracemalloc: its lists and dicts
_SLOT_BYTES = 24  # per event and per column: the list slot and its value, about


def _micros(column: pa.ChunkedArray) -> pa.Array:
    """A time column as microseconds since the epoch, int64 (an integer column as it is)."""
    array = column.combine_chunks()
    if pa.types.is_timestamp(array.type):
        array = array.cast(pa.timestamp("us", tz=array.type.tz))
    return array.cast(pa.int64())


def _entity_order(keys: Sequence[str], t: pa.Array, versions: pa.Array | None,
                  ties: pa.Array) -> tuple[pa.Array, list[tuple[int, int]]]:
    """One sort of a batch's rows by entity, then event order (time, version, id in
    the id's own order: text by code point, which is UTF-8 byte order): the rows in
    that order, and each entity's ``[lo, hi)`` among them."""
    codes = pc.dictionary_encode(pa.array(keys, pa.string())).indices
    columns = {"k": codes, "t": t}
    if versions is not None:
        columns["v"] = versions
    columns["i"] = ties
    order = pc.sort_indices(pa.table(columns), [(c, "ascending") for c in columns])
    sorted_codes = codes.take(order).to_numpy()
    starts = [0, *(np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1).tolist()]
    ends = [*starts[1:], len(keys)]
    return order, list(zip(starts, ends, strict=True))


_NEEDS_ESCAPE = r'[^\x20\x21\x23-\x5b\x5d-\x7e]'  # what JSON would escape in a string


def _plain_keys(batch: pa.Table, keys: Sequence[str]) -> list[str] | None:
    """``entity_key`` of each row, vectorised, for one key column of strings that JSON
    writes as they are, or of integers; None where that does not apply (the caller
    then encodes row by row)."""
    if len(keys) != 1:
        return None
    column = batch.column(keys[0])
    if column.null_count:
        return None
    if pa.types.is_integer(column.type):
        text = pc.cast(column, pa.string())
        return pc.binary_join_element_wise("[", text, "]", "").to_pylist()  # type: ignore[no-any-return]
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        return None
    if pc.any(pc.match_substring_regex(column, _NEEDS_ESCAPE)).as_py():
        return None
    return pc.binary_join_element_wise('["', column, '"]', "").to_pylist()  # type: ignore[no-any-return]


def entity_keys(batch: pa.Table, columns: Sequence[str]) -> list[str]:
    """``entity_key`` of each row's values of ``columns`` (vectorised where it can)."""
    if not columns:
        return [entity_key([])] * batch.num_rows
    plain = _plain_keys(batch, columns)
    if plain is not None:
        return plain
    values = [batch.column(k).to_pylist() for k in columns]
    return [entity_key(row) for row in zip(*values, strict=True)]


class ViewState:
    """The per-entity window state of one view's plan in a stream processor."""

    def __init__(self, plan: ViewPlan, *, live_bytes: int = LIVE_BYTES) -> None:
        self.plan = plan
        low = lower(plan)
        self._columns = low.value_columns
        self._flags = {w: f"__f{i}" for i, w in enumerate(low.filters)}
        self._integer_ties = dict(plan.types).get(plan.tie) == "int64"
        self._what = f"feature view '{plan.name}'"
        kinds = value_kinds(plan)  # types the view's expressions now
        self._held: dict[str, bytes | None] = {}  # stored values (None: no events)
        self._open: dict[str, HeldEvents] = {}  # touched since the last blobs()
        # sealed entities kept unpacked too (least recently sealed first), so that the
        # next batch touching them skips unpacking their stored value; about
        # ``live_bytes`` of them at most. Only where unpacking gives back the very
        # values held: not for JSON-packed columns (dates, timestamps), read back as text
        self._live: OrderedDict[str, tuple[HeldEvents, int]] = OrderedDict()
        self._live_bytes = 0
        self._live_limit = live_bytes if "j" not in kinds.values() else 0
        self._slots = _SLOT_BYTES * (3 + len(self._columns) + len(self._flags)
                                     + (plan.version is not None))
        self._horizon: int | None = None  # the latest horizon given or loaded
        self._last_keys: tuple[pa.Table, list[str]] | None = None

    def __len__(self) -> int:
        """How many entities are held."""
        return len(self._held) + len(self._open)

    def keys_of(self, batch: pa.Table) -> list[str]:
        """Each row's entity key in the online store (``stored_state.entity_key``)."""
        if self._last_keys is not None and self._last_keys[0] is batch:
            return self._last_keys[1]  # the processor asks for a batch's keys, then adds it
        self._check_columns(batch)
        keys = entity_keys(batch, self.plan.keys)
        self._last_keys = (batch, keys)
        return keys

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The keys, each once, whose state is not held: ``load`` them before ``add``."""
        return [k for k in dict.fromkeys(keys) if k not in self._held and k not in self._open]

    def load(self, key: str, blob: bytes | None) -> None:
        """Adopt an entity's stored value (None: nothing stored, no events)."""
        if key in self._open:
            raise InputError(f"{self._what}, entity {key}", "has events not written yet, "
                             "which loading its stored state would discard", got=key,
                             fix="call blobs() for it first, or load only missing() keys")
        if blob is not None:  # refuses a value of another release now
            self._advance(open_state(blob, self._what).horizon)
        self._unlive(key)
        self._held[key] = blob

    def forget(self, keys: Iterable[str]) -> None:
        """Drop entities from memory; they are loaded again when next touched."""
        for key in keys:
            if key in self._open:
                raise InputError(f"{self._what}, entity {key}", "has events not written "
                                 "yet", got=key, fix="call blobs() for it first")
            self._unlive(key)
            self._held.pop(key, None)

    def add(self, batch: pa.Table) -> set[str]:
        """Merge a micro-batch of the source's accepted events (any order; ids already
        held are skipped); returns the keys of the entities it touches."""
        plan = self.plan
        keys = self.keys_of(batch)
        unloaded = self.missing(keys)
        if unloaded:
            raise InputError(f"{self._what}, entity {unloaded[0]}", "must be loaded "
                             "before events are added to it", got=unloaded,
                             fix="load(key, stored value or None) each of missing(keys)")
        if not keys:
            return set()
        table = derive_and_filter(bind(plan), batch, self._flags)
        t_at, versions_at, ties_at, known_at = self._order_columns(table)
        order, groups = _entity_order(keys, t_at, versions_at, ties_at)
        t = t_at.take(order).to_pylist()
        ties = ties_at.take(order).to_pylist()
        known = t if known_at is t_at else known_at.take(order).to_pylist()
        versions = None if versions_at is None else versions_at.take(order).to_pylist()
        values = {c: table.column(c).take(order).to_pylist() for c in self._columns}
        passes = {w: table.column(f).take(order).to_pylist() for w, f in self._flags.items()}
        # each entity's key as keys_of gave it (one string object per key, kept as is)
        firsts = order.take(pa.array([lo for lo, _ in groups], pa.int64())).to_pylist()
        touched: set[str] = set()
        for first, new in zip(firsts, held_slices(groups, t, versions, ties, known, values,
                                                   passes), strict=True):
            key = keys[first]
            touched.add(key)
            held = self._open.get(key)
            if held is None:
                if self._held[key] is None and len(set(new.ties)) == len(new.ties):
                    del self._held[key]  # a new entity: its events as they are
                    self._open[key] = new
                    continue
                held = self._open[key] = self._opened(key)
            held.merge(new)
        return touched

    def features_at(self, keys: Sequence[str], times: Sequence[int],
                    ) -> list[dict[str, Any] | None]:
        """The view's features for each (entity key, time in µs), over the events held
        now, with those added since the last ``blobs`` (see held_reads.py); None where
        the held events do not answer exactly at that time."""
        out: list[dict[str, Any] | None] = [None] * len(keys)
        by_key, asked = self._asked(keys, times)
        # every entity's windows evaluated in one pass (held_reads.features_at_many)
        for rows, found in zip(by_key.values(), features_at_many(self.plan, asked),
                               strict=True):
            for i, values in zip(rows, found, strict=True):
                out[i] = values
        return out

    def feature_columns(self, keys: Sequence[str], times: Sequence[int],
                        ) -> tuple[dict[str, list[Any]], list[bool]]:
        """``features_at(keys, times)`` as columns: each feature's values in the order
        of ``keys``, and whether each row is answered (False where ``features_at``
        gives None; every feature's value there is None). No dict per row."""
        by_key, asked = self._asked(keys, times)
        columns, answered = feature_columns_many(self.plan, asked)
        rows = list(chain.from_iterable(by_key.values()))
        names = list(columns)
        placed_columns = placed([columns[n] for n in names], rows, len(keys))
        (placed_answered,) = placed([answered], rows, len(keys))
        return dict(zip(names, placed_columns, strict=True)), placed_answered

    def _asked(self, keys: Sequence[str], times: Sequence[int],
               ) -> tuple[dict[str, list[int]], list[tuple[HeldEvents, list[int]]]]:
        """The rows of each distinct key, and each key's held events with its times."""
        by_key: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            by_key.setdefault(key, []).append(i)
        asked: list[tuple[HeldEvents, list[int]]] = []
        for key, rows in by_key.items():
            held = self._open.get(key)
            if held is None and key in self._live:
                held = self._live[key][0]
            if held is None:
                blob = self._held.get(key)
                held = (HeldEvents.empty(self.plan) if blob is None
                        else HeldEvents.opened(self.plan, blob, self._integer_ties))
            asked.append((held, [times[i] for i in rows]))
        return by_key, asked

    def blobs(self, keys: Iterable[str], horizon_us: int) -> dict[str, bytes]:
        """Each entity's stored value, pruned at ``horizon_us`` (the watermark; a
        horizon below one given before, or below a loaded value's, is taken as that).
        An entity loaded without a value that got no event since has none to write."""
        horizon_us = self._advance(horizon_us)
        unique = list(dict.fromkeys(keys))
        for key in unique:
            if key not in self._open and key not in self._held:
                raise InputError(f"{self._what}, entity {key}", "is not held",
                                 got=key, fix="load(key, its stored value) first")
        out: dict[str, bytes] = {}
        sealed: dict[str, HeldEvents] = {}
        for key in unique:
            held = self._open.pop(key, None)
            if held is None:
                blob = self._held[key]
                if blob is None:
                    continue
                if horizon_us <= open_state(blob, self._what).horizon:
                    out[key] = blob  # pruned at this horizon or a later one already
                    continue
                held = self._opened(key)
            out[key] = b""  # its place in the order of keys
            sealed[key] = held
        # every entity at once (the same bytes as HeldEvents.seal, several times faster)
        for (key, held), blob in zip(sealed.items(), seal_many(self.plan, list(sealed.values()),
                                                                horizon_us), strict=True):
            out[key] = self._held[key] = blob
            self._keep_live(key, held)
        return out

    def _keep_live(self, key: str, held: HeldEvents) -> None:
        cost = _ENTITY_BYTES + self._slots * len(held)
        if cost > self._live_limit:
            return
        self._live[key] = (held, cost)
        self._live_bytes += cost
        while self._live_bytes > self._live_limit:
            _, (_, oldest) = self._live.popitem(last=False)
            self._live_bytes -= oldest

    def _unlive(self, key: str) -> HeldEvents | None:
        found = self._live.pop(key, None)
        if found is None:
            return None
        self._live_bytes -= found[1]
        return found[0]

    def _check_columns(self, batch: pa.Table) -> None:
        plan = self.plan
        lacking = [c for c in dict.fromkeys((*plan.columns, plan.tie))
                   if c not in batch.column_names]
        if lacking:
            raise SchemaMismatchError(f"micro-batch of {self._what}", "must hold every "
                                      "column of the source and its id", got=lacking,
                                      fix="pass the source's accepted events as they are "
                                      "stored")

    def _advance(self, horizon: int) -> int:
        if self._horizon is None or horizon > self._horizon:
            self._horizon = horizon
        return self._horizon

    def _opened(self, key: str) -> HeldEvents:
        blob = self._held.pop(key)
        live = self._unlive(key)
        if live is not None:  # sealed as ``blob``, still unpacked
            return live
        if blob is None:
            return HeldEvents.empty(self.plan)
        return HeldEvents.opened(self.plan, blob, self._integer_ties)

    def _order_columns(self, table: pa.Table) -> tuple[pa.Array, pa.Array | None, pa.Array,
                                                       pa.Array]:
        """The batch's event times, versions (null: ``OLDEST``; None without a version
        column), ids (integers for integer ids, else text) and known-at times (null or
        before the event's time: its time), as Arrow arrays (times in µs)."""
        plan = self.plan
        t = self._required(_micros(table.column(plan.event_time)), plan.event_time)
        ids = self._required(table.column(plan.tie).combine_chunks(), plan.tie)
        if self._integer_ties:
            ties = (ids.cast(pa.int64()) if pa.types.is_integer(ids.type)
                    else pa.array([int(x) for x in ids.to_pylist()], pa.int64()))
        elif pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type):
            ties = ids.cast(pa.string())
        else:
            ties = pa.array([str(x) for x in ids.to_pylist()], pa.string())
        known = t
        if plan.known_at is not None:  # null or early: known at its time
            at = _micros(table.column(plan.known_at))
            known = pc.if_else(pc.fill_null(pc.less(at, t), True), t, at)
        versions = None
        if plan.version is not None:
            versions = pc.fill_null(_micros(table.column(plan.version)), OLDEST)
        return t, versions, ties, known

    def _required(self, values: pa.Array, column: str) -> pa.Array:
        if values.null_count:
            raise InputError(f"micro-batch of {self._what}", f"'{column}' must not be null",
                             got=None, fix="pass only the source's accepted events")
        return values
