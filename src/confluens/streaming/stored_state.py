"""What the online store holds per entity of a view: its key and its value.

The key is the entity's key values as a JSON list (:func:`entity_key`). The value is
an envelope, then the entity's kept events packed as columns (``streaming/packed.py``)::

    marker     0xE2 (u8)
    earliest   i64: the earliest time (µs) from which the state answers reads exactly
               (``streaming/exact_reads.py``; the very past when nothing was left out)
    left out   i64: the time of the latest event left out (the very past: none)
    horizon    i64: the time the events were pruned at (the latest event time of a
               materialize, a stream processor's watermark)

Reads need only the earliest time. The other two let a stream processor that adopts
a stored state prune it again and recompute the earliest time exactly as one
pruning of the whole history would (``streaming/entity_state.py``).

``confluens materialize`` (``project/online_state.py``, events kept by DuckDB) and a
stream processor (``streaming/entity_state.py``) both write values through
:func:`encode_entity`, so they are byte for byte the same for the same kept events.

>>> from confluens.core import Count, Entity, FeatureView, Source, Sum
>>> from confluens.plan.ir import plan_view
>>> tx = Source("tx", {"id": "int64", "ts": "timestamp", "c": "string", "a": "float64"},
...             "ts", id="id")
>>> plan = plan_view(FeatureView("v", Entity("c", ["c"]), tx, [Sum("a", window="10s")]))
>>> blob = encode_entity(plan, [5, 9], None, ["1", "2"], [5, 9], {"a": [1.0, None]}, {},
...                      left_out=2, horizon=9)
>>> state = open_state(blob, "feature view 'v'")
>>> state.earliest, state.left_out, state.horizon, entity_key(["x"])
(9, 2, 9, '["x"]')
>>> decode_state(blob).values
{'a': [1.0, None]}
"""

from __future__ import annotations

import json
import operator
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from confluens.errors import ProjectError
from confluens.plan.expressions import bind
from confluens.plan.ir import ViewPlan, lower
from confluens.streaming.exact_reads import ANY_TIME, earliest_exact
from confluens.streaming.packed import FORMAT, pack_events, unpack_events
from confluens.streaming.packed_many import pack_many
from confluens.streaming.window_events import EntityEvents

__all__ = ["STATE_FORMAT", "StoredState", "decode_state", "encode_entities", "encode_entity",
           "entity_key", "open_state", "value_kinds"]

_ENVELOPE = struct.Struct("<Bqqq")  # marker, earliest exact read time, left out, horizon
_MARKER = 0xE2
_MARKER_BYTE = bytes([_MARKER])
_EARLIER_MARKERS = {0xE1: "e1"}
_NONE = ANY_TIME  # no event left out
#: The packed format and the envelope: a change of either rebuilds on the next materialize.
STATE_FORMAT = f"{FORMAT}e2"

_KEYS = json.JSONEncoder(default=str, separators=(",", ":"))


def entity_key(values: Sequence[Any]) -> str:
    """An entity's key in the online store: its key values as a JSON list."""
    return _KEYS.encode(list(values))


_KINDS = {"int64": "q", "float64": "d", "bool": "?", "string": "s"}


def value_kinds(plan: ViewPlan) -> dict[str, str]:
    """The packed type (``packed.TYPES``) of each column the aggregations of ``plan``
    read, from its type (timestamps and dates: ``j``, JSON text)."""
    types = bind(plan).types
    return {c: _KINDS.get(types[c], "j") for c in lower(plan).value_columns}


@dataclass(frozen=True, slots=True)
class StoredState:
    """An entity's stored value, opened: the envelope's times and the packed events."""

    earliest: int
    left_out: int | None
    horizon: int
    packed: bytes


def encode_entity(plan: ViewPlan, t: Sequence[int], versions: Sequence[int] | None,
                  tie: Sequence[str], known: Sequence[int], values: Mapping[str, Sequence[Any]],
                  passes: Mapping[str, Sequence[bool]], *, left_out: int | None,
                  horizon: int) -> bytes:
    """One entity's value: its kept events (in event order; ``versions`` None when the
    source has none), the latest left-out event's time and the horizon they were
    pruned at, with the earliest exact read time they give. A known-at time before
    the event's time is written as the event's time (an event counts from its time on
    either way)."""
    low = lower(plan)
    kinds = _kinds_of(plan)
    # known before its time is known at its time: every rule reads them alike
    if known is not t:
        known = list(map(max, known, t))
    if left_out is None:
        earliest = ANY_TIME  # nothing left out: exact at any time
    else:
        every: dict[str | None, Sequence[bool]] = {None: [True] * len(t)}
        every.update(passes)
        earliest = earliest_exact(low, left_out, t, known, every, horizon)
    head = _ENVELOPE.pack(_MARKER, earliest, _NONE if left_out is None else left_out, horizon)
    return head + pack_events(t, tie, known, {c: (kind, values[c]) for c, kind in kinds},
                              {w: passes[w] for w in low.filters}, versions)


def encode_entities(plan: ViewPlan, bounds: Sequence[int], t: Sequence[int],
                    versions: Sequence[int] | None, tie: Sequence[str] | Sequence[int],
                    known: Sequence[int], values: Mapping[str, Sequence[Any]],
                    passes: Mapping[str, Sequence[bool]], *, left_out: Sequence[int | None],
                    horizon: Sequence[int]) -> list[bytes]:
    """:func:`encode_entity` of many entities at once, byte for byte: entity i's
    events are ``bounds[i]:bounds[i + 1]`` of the columns (integer ties: written as
    their text), ``left_out[i]`` and ``horizon[i]`` its envelope's times
    (``streaming/packed_many.py`` packs them)."""
    low = lower(plan)
    if known is not t and any(map(operator.lt, known, t)):
        known = list(map(max, known, t))
    heads = []
    for i, latest in enumerate(left_out):
        earliest = ANY_TIME
        if latest is not None:
            lo, hi = bounds[i], bounds[i + 1]
            every: dict[str | None, Sequence[bool]] = {None: [True] * (hi - lo)}
            every.update((w, flags[lo:hi]) for w, flags in passes.items())
            earliest = earliest_exact(low, latest, t[lo:hi], known[lo:hi], every, horizon[i])
        heads.append(_ENVELOPE.pack(_MARKER, earliest, _NONE if latest is None else latest,
                                    horizon[i]))
    kinds = {c: (kind, values[c]) for c, kind in _kinds_of(plan)}
    return pack_many(bounds, t, tie, known, kinds, {w: passes[w] for w in low.filters},
                     versions, heads)


_KINDS_OF: dict[int, tuple[ViewPlan, tuple[tuple[str, str], ...]]] = {}


def _kinds_of(plan: ViewPlan) -> tuple[tuple[str, str], ...]:
    """``value_kinds(plan)``, cached by the plan's identity (plans are immutable)."""
    cached = _KINDS_OF.get(id(plan))
    if cached is None or cached[0] is not plan:
        if len(_KINDS_OF) > 1024:
            _KINDS_OF.clear()
        cached = _KINDS_OF[id(plan)] = (plan, tuple(value_kinds(plan).items()))
    return cached[1]


def open_state(blob: bytes, what: str) -> StoredState:
    """An entity's stored value; ``what`` names its view in errors (a value written by
    an earlier release asks to re-run ``confluens materialize``)."""
    if blob[:1] != _MARKER_BYTE or len(blob) < _ENVELOPE.size:
        earlier = _EARLIER_MARKERS.get(blob[0]) if blob else None
        if earlier is None:
            unpack_events(blob, what)  # bare packed events, or another format: says what
        raise ProjectError(f"online state of {what}", "was written by an earlier release",
                           got=f"envelope {earlier}" if earlier else "no read-time envelope",
                           fix="run `confluens materialize` to rebuild it")
    _, earliest, left_out, horizon = _ENVELOPE.unpack_from(blob)
    return StoredState(earliest, None if left_out == _NONE else left_out, horizon,
                       blob[_ENVELOPE.size:])


def decode_state(blob: bytes | None, view: str = "?") -> EntityEvents:
    """An entity's stored value (or bare packed events) as ``EntityEvents`` (None: no
    state, no events)."""
    if blob is None:
        return EntityEvents()
    if blob[:1] == _MARKER_BYTE:
        blob = blob[_ENVELOPE.size:]
    packed = unpack_events(blob, f"feature view '{view}'")
    flags = [frozenset(w for w in packed.filters if packed.passes(w)[i])
             for i in range(packed.n)]
    out = EntityEvents(t=list(packed.t), tie=packed.tie, known=list(packed.known),
                       values={c: list(packed.column(c)) for c in packed.columns},
                       flags=flags)
    out.late = any(k > t for k, t in zip(out.known, out.t, strict=True))
    return out
