"""The online state of a view: what the online store keeps per entity, and reads.

For each entity, the events that can still fall in a window from the latest event
time on (see plan/prepared.py), packed as columns (streaming/packed.py). A read
unpacks them and evaluates every window at the time of the read
(streaming/window_events.py), so values decay as time passes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp

from confluens.core import FeatureView
from confluens.errors import InputError
from confluens.plan import plan_view
from confluens.plan.ir import ViewPlan
from confluens.plan.prepared import compile_prepared, filters_of, value_columns
from confluens.plan.user_sql import blame
from confluens.sqlx import col, func, render, same_keys, table_ref
from confluens.stores.online import OnlineStore
from confluens.streaming import EntityEvents, compile_plan, evaluate_compiled
from confluens.streaming.packed import FORMAT, PackedEvents, pack_events, unpack_events

__all__ = ["STATE_FORMAT", "decode_state", "entity_key", "online_state", "read_online",
           "read_online_views"]

STATE_FORMAT = FORMAT  # bump-worthy: a materialize record could include it (see packed.py)


_KEYS = json.JSONEncoder(default=str, separators=(",", ":"))


def entity_key(values: Sequence[Any]) -> str:
    """An entity's key in the online store: its key values as a JSON list."""
    return _KEYS.encode(list(values))


def online_state(plan: ViewPlan, files: list[str], *,
                 entities: pa.Table | None = None) -> dict[str, bytes]:
    """The packed state of every entity in ``files``, or only of ``entities`` (a table
    of the view's key columns); the horizon is the latest event time of all files."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("stored", con.read_parquet(files, union_by_name=True))
        latest = exp.select(func("max", func("epoch_us", col(plan.event_time)))).from_(
            table_ref("stored"))
        (horizon,) = con.sql(render(latest)).fetchall()[0]
        events: exp.Select = exp.select(exp.Star()).from_(table_ref("stored"))
        if entities is not None:
            con.register("chosen", entities)
            events = events.join(table_ref("chosen"), join_type="semi",
                                 on=exp.and_(*same_keys(plan.keys, "stored", "chosen")))
        con.register("events", con.sql(render(events)))
        try:
            rows = con.sql(render(compile_prepared(plan, int(horizon or 0)))).to_arrow_table()
        except duckdb.Error as exc:
            found = blame(plan, con, "events", exc)
            if found is None:
                raise
            raise found from exc
    finally:
        con.close()
    return _encode(plan, rows)


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


def _encode(plan: ViewPlan, rows: pa.Table) -> dict[str, bytes]:
    """Rows ordered by entity, then (time, tie), as one packed state per entity."""
    columns = value_columns(plan)
    filters = filters_of(plan)
    kinds = {c: _kind(rows.schema.field(c).type) for c in columns}
    data = rows.to_pydict()
    keys = [entity_key(k) for k in zip(*[data[k] for k in plan.keys], strict=True)]
    t, tie, known = data["__t"], data["__tie"], data["__k"]
    out: dict[str, bytes] = {}
    start = 0
    for end in range(1, len(keys) + 1):
        if end < len(keys) and keys[end] == keys[start]:
            continue
        part = slice(start, end)
        out[keys[start]] = pack_events(
            t[part], tie[part], known[part],
            {c: (kinds[c], data[c][part]) for c in columns},
            {w: data[f"__f{j}"][part] for j, w in enumerate(filters)})
        start = end
    return out


def decode_state(blob: bytes | None, view: str = "?") -> EntityEvents:
    """An entity's stored state as ``EntityEvents`` (None: no state, no events)."""
    if blob is None:
        return EntityEvents()
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


def read_online(view: FeatureView, online: OnlineStore, keys: Sequence[Sequence[Any]],
                at: datetime) -> list[dict[str, Any]]:
    """The features of ``view`` for each entity of ``keys``, windows evaluated at ``at``."""
    return read_online_views([(view, keys)], online, at)[0]


def read_online_views(requests: Sequence[tuple[FeatureView, Sequence[Sequence[Any]]]],
                      online: OnlineStore, at: datetime) -> list[list[dict[str, Any]]]:
    """Several views at once (a model's whole feature vector): one store round trip.

    For each (view, keys) request, the features of each entity, as ``read_online``.
    """
    if at.tzinfo is None:
        raise InputError("at", "must carry a time zone", got=at.isoformat(),
                         fix="pass e.g. datetime.now(timezone.utc)")
    at_us = (at - _EPOCH) // _MICROSECOND
    blobs = online.read_many([(view.name, [entity_key(k) for k in keys])
                              for view, keys in requests])
    out = []
    for (view, _), found in zip(requests, blobs, strict=True):
        compiled = compile_plan(_plan(view))
        what = f"feature view '{view.name}'"
        out.append([evaluate_compiled(compiled, _EMPTY if blob is None
                                      else unpack_events(blob, what), at_us)
                    for blob in found])
    return out
