"""The online state of a view: what the online store keeps per entity, and reads.

For each entity, the events that can still fall in a window from the latest event
time on (see plan/retention.py), packed as columns (streaming/packed.py). A read
unpacks them and evaluates every window at the time of the read
(streaming/window_events.py), so values decay as time passes.

Each entity's value is an envelope, a marker byte and the earliest time (µs) from
which its state answers exactly, then the packed events. That time is the very past
when no event of the entity was left out. When some were, with L the latest left-out
event's time, it is the latest of: L plus the longest delay + window (from then on no
time window reaches a left-out event), and for each event-count window Events(n)
(delay d, filter f) the time its n-th kept event after L passing f becomes visible
(known, and past d), when the n latest visible events are all kept ones; and never
later than the materialize horizon, from which the state is exact by construction.
A read before it is refused, never answered wrongly.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp

from confluens.core import FeatureView
from confluens.duckdb_session import connect
from confluens.errors import InputError, ProjectError
from confluens.plan import plan_view
from confluens.plan.ir import LoweredPlan, ViewPlan, lower
from confluens.plan.retention import compile_retained, filters_of, value_columns
from confluens.plan.user_sql import blame
from confluens.project.instants import require_zone
from confluens.sqlx import aliased, col, func, render, same_keys, table_ref
from confluens.stores.online import OnlineStore
from confluens.streaming import EntityEvents, compile_plan, evaluate_compiled
from confluens.streaming.packed import FORMAT, PackedEvents, pack_events, unpack_events

__all__ = ["STATE_FORMAT", "FeatureRows", "FeatureVector", "decode_state", "entity_key",
           "online_state", "read_online", "read_online_views"]

_ENVELOPE = struct.Struct("<Bq")  # marker, earliest exact read time (µs)
_MARKER = 0xE1
_MARKER_BYTE = bytes([_MARKER])
_ANY_TIME = -(2**63)
# the packed format and the envelope: a change of either rebuilds on the next materialize
STATE_FORMAT = f"{FORMAT}e1"


class FeatureRows(list[dict[str, Any]]):
    """Feature values, one dict per requested key, in the order of the keys.

    ``found[i]`` tells whether key i had online state; ``missing`` lists the keys (as
    requested) that had none (never materialized, or expired): their values are those
    of an empty window (0 for counts and sums, null otherwise).
    """

    def __init__(self, rows: Sequence[dict[str, Any]], found: list[bool],
                 keys: Sequence[Any]) -> None:
        super().__init__(rows)
        self.found = found
        self._keys = keys

    @property
    def missing(self) -> list[Any]:
        return [k for k, f in zip(self._keys, self.found, strict=True) if not f]


class FeatureVector(dict[str, Any]):
    """One feature vector across views: feature name -> value. ``missing`` lists the
    views whose entity had no online state (their features read as an empty window)."""

    def __init__(self, values: dict[str, Any], missing: Sequence[str]) -> None:
        super().__init__(values)
        self.missing = list(missing)


_KEYS = json.JSONEncoder(default=str, separators=(",", ":"))


def entity_key(values: Sequence[Any]) -> str:
    """An entity's key in the online store: its key values as a JSON list."""
    return _KEYS.encode(list(values))


def online_state(plan: ViewPlan, files: list[str], *,
                 entities: pa.Table | None = None) -> dict[str, bytes]:
    """The packed state of every entity in ``files``, or only of ``entities`` (a table
    of the view's key columns); the horizon is the latest event time of all files."""
    con = connect()
    try:
        con.register("stored", con.read_parquet(files, union_by_name=True))
        latest = exp.select(func("max", func("epoch_us", col(plan.event_time)))).from_(
            table_ref("stored"))
        (horizon,) = con.sql(render(latest)).fetchall()[0]
        events: exp.Select = exp.select(exp.Star()).from_(table_ref("stored"))
        if entities is not None and plan.keys:  # without keys: the one entity changed
            con.register("chosen", entities)
            events = events.join(table_ref("chosen"), join_type="semi",
                                 on=exp.and_(*same_keys(plan.keys, "stored", "chosen")))
        con.register("events", con.sql(render(events)))
        try:
            rows = con.sql(render(compile_retained(plan, int(horizon or 0)))).to_arrow_table()
        except duckdb.Error as exc:
            found = blame(plan, con, "events", exc)
            if found is None:
                raise
            raise found from exc
        dropped = _left_out(plan, con, rows)
    finally:
        con.close()
    return _encode(plan, rows, dropped=dropped, horizon=int(horizon or 0))


def _left_out(plan: ViewPlan, con: duckdb.DuckDBPyConnection,
              kept: pa.Table) -> dict[str, int]:
    """Per entity with events the state leaves out: the latest such event's time."""
    con.register("kept", kept)
    keys = [col(k, "e") for k in plan.keys]
    same_event = exp.and_(*same_keys(plan.keys, "e", "k"), exp.EQ(
        this=col(plan.tie, "e"), expression=col("__tie_order", "k")))
    query = (exp.select(*keys, func("max", func("epoch_us", col(plan.event_time, "e"))))
             .from_(aliased("events", "e"))
             .join(aliased("kept", "k"), on=same_event, join_type="anti")
             .group_by(*[k.copy() for k in keys]))
    return {entity_key(row[:-1]): row[-1] for row in con.sql(render(query)).fetchall()}


def _earliest(low: LoweredPlan, latest: int | None, t: list[int], known: list[int],
              passes: dict[str | None, list[bool]], horizon: int) -> int:
    """From when an entity's state answers exactly, given the time of its latest
    left-out event (None: none) and its kept events (see the module docstring)."""
    if latest is None:
        return _ANY_TIME
    bounds: list[int] = []
    if low.reach_us is not None:  # no time window reaches the left-out events from then on
        bounds.append(latest + low.reach_us)
    for (where, delay), n in low.count_windows.items():
        # from when n kept events after the left-out ones are visible: the n latest
        # visible events are then all kept ones
        visible = sorted(max(k, ti + delay) for ti, k, ok in zip(t, known, passes[where],
                                                               strict=True)
                         if ti > latest and ok)
        bounds.append(visible[n - 1] if len(visible) >= n else horizon)
    return min(max(bounds), horizon)


def _kind(dtype: pa.DataType) -> str:
    """The packed type of an Arrow type (streaming/packed.py)."""
    if pa.types.is_boolean(dtype):
        return "?"
    if pa.types.is_signed_integer(dtype) or dtype in (pa.uint8(), pa.uint16(), pa.uint32()):
        return "q"
    if pa.types.is_floating(dtype):
        return "d"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "s"
    return "j"


def _encode(plan: ViewPlan, rows: pa.Table, *, dropped: dict[str, int] | None = None,
            horizon: int = 0) -> dict[str, bytes]:
    """Rows ordered by entity, then (time, tie), as one packed state per entity, each in
    its envelope (``dropped``: see ``_left_out``; None: nothing left out)."""
    columns = value_columns(plan)
    filters = filters_of(plan)
    low = lower(plan)
    kinds = {c: _kind(rows.schema.field(c).type) for c in columns}
    data = rows.to_pydict()
    keys = ([entity_key(k) for k in zip(*[data[k] for k in plan.keys], strict=True)]
            if plan.keys else [entity_key([])] * rows.num_rows)
    t, tie, known = data["__t"], data["__tie"], data["__k"]
    out: dict[str, bytes] = {}
    start = 0
    for end in range(1, len(keys) + 1):
        if end < len(keys) and keys[end] == keys[start]:
            continue
        part = slice(start, end)
        latest = (dropped or {}).get(keys[start])
        earliest = _ANY_TIME
        if latest is not None:
            passes: dict[str | None, list[bool]] = {None: [True] * (end - start)}
            passes.update({w: data[f"__f{j}"][part] for j, w in enumerate(filters)})
            earliest = _earliest(low, latest, t[part], known[part], passes, horizon)
        out[keys[start]] = _ENVELOPE.pack(_MARKER, earliest) + pack_events(
            t[part], tie[part], known[part],
            {c: (kinds[c], data[c][part]) for c in columns},
            {w: data[f"__f{j}"][part] for j, w in enumerate(filters)})
        start = end
    # an entity whose every event is left out still gets a state (no events, and the
    # earliest exact read time): an incremental update must replace its older state
    empty: dict[str, list[bool]] = {w: [] for w in filters}
    none_pass: dict[str | None, list[bool]] = {None: []}
    none_pass.update(empty)
    for key, latest in (dropped or {}).items():
        if key not in out:
            earliest = _earliest(low, latest, [], [], none_pass, horizon)
            out[key] = _ENVELOPE.pack(_MARKER, earliest) + pack_events(
                [], [], [], {c: (kinds[c], []) for c in columns}, empty)
    return out


def decode_state(blob: bytes | None, view: str = "?") -> EntityEvents:
    """An entity's stored state as ``EntityEvents`` (None: no state, no events)."""
    if blob is None:
        return EntityEvents()
    if blob[:1] == _MARKER_BYTE:  # a stored value; bare packed events are read as such
        blob = blob[_ENVELOPE.size:]
    packed = unpack_events(blob, f"feature view '{view}'")
    flags = [frozenset(w for w in packed.filters if packed.passes(w)[i])
             for i in range(packed.n)]
    out = EntityEvents(t=list(packed.t), tie=packed.tie, known=list(packed.known),
                       values={c: list(packed.column(c)) for c in packed.columns},
                       flags=flags)
    out.late = any(k > t for k, t in zip(out.known, out.t, strict=True))
    return out


_PLANS: dict[int, tuple[FeatureView, ViewPlan]] = {}
_EMPTY: PackedEvents = unpack_events(pack_events([], [], [], {}, {}), "no state")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _plan(view: FeatureView) -> ViewPlan:
    """The view's plan, cached by identity (hashing a view walks its whole definition)."""
    cached = _PLANS.get(id(view))
    if cached is None or cached[0] is not view:
        if len(_PLANS) > 1024:  # definitions reloaded many times: start afresh
            _PLANS.clear()
        cached = _PLANS[id(view)] = (view, plan_view(view))
    return cached[1]


def _opened(blob: bytes, what: str) -> tuple[int, bytes]:
    """An entity's stored value: (earliest exact read time in µs, packed events)."""
    if blob[:1] != _MARKER_BYTE or len(blob) < _ENVELOPE.size:
        unpack_events(blob, what)  # the state of an older release: says what to do
        raise ProjectError(f"online state of {what}", "was written by an earlier release",
                           got="no read-time envelope",
                           fix="run `confluens materialize` to rebuild it")
    return _ENVELOPE.unpack_from(blob)[1], blob[_ENVELOPE.size:]


def read_online(view: FeatureView, online: OnlineStore, keys: Sequence[Sequence[Any]],
                at: datetime) -> FeatureRows:
    """The features of ``view`` for each entity of ``keys``, windows evaluated at ``at``."""
    return read_online_views([(view, keys)], online, at)[0]


def read_online_views(requests: Sequence[tuple[FeatureView, Sequence[Sequence[Any]]]],
                      online: OnlineStore, at: datetime) -> list[FeatureRows]:
    """Several views at once (a model's whole feature vector): one store round trip.

    For each (view, keys) request, the features of each entity, as ``read_online``.
    A read earlier than an entity's state can answer exactly raises InputError.
    """
    require_zone(at, "at")
    at_us = (at - _EPOCH) // _MICROSECOND
    blobs = online.read_many([(view.name, [entity_key(k) for k in keys])
                              for view, keys in requests])
    out = []
    for (view, keys), found in zip(requests, blobs, strict=True):
        compiled = compile_plan(_plan(view))
        what = f"feature view '{view.name}'"
        rows = []
        for key, blob in zip(keys, found, strict=True):
            if blob is None:
                rows.append(evaluate_compiled(compiled, _EMPTY, at_us))
                continue
            earliest, packed = _opened(blob, what)
            if at_us < earliest:
                raise _too_early(view, key, at, earliest)
            rows.append(evaluate_compiled(compiled, unpack_events(packed, what), at_us))
        out.append(FeatureRows(rows, [b is not None for b in found], keys))
    return out


def _too_early(view: FeatureView, key: Sequence[Any], at: datetime,
               earliest: int) -> InputError:
    since = (_EPOCH + timedelta(microseconds=earliest)).isoformat()
    return InputError(
        f"feature view '{view.name}', entity {entity_key(key)}",
        f"the online state answers reads from {since} on (older events of this entity are "
        "not kept online)", got=at.isoformat(),
        fix=f"read at or after {since}, or compute past values offline with "
        "project.training_set (`confluens training-set`)")
