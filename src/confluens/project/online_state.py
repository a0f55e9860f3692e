"""The online state of a view: what the online store keeps per entity, and reads.

For each entity, the events that can still fall in a window from the latest event
time on (see plan/prepared.py), encoded as bytes. A read decodes them and evaluates
every window at the time of the read (streaming/window_events.py), so values decay
as time passes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp

from confluens.core import FeatureView
from confluens.plan import plan_view
from confluens.plan.ir import ViewPlan
from confluens.plan.prepared import compile_prepared, filters_of, value_columns
from confluens.sqlx import col, func, render, table_ref
from confluens.stores.online import OnlineStore
from confluens.streaming import EntityEvents, evaluate_all

__all__ = ["decode_state", "entity_key", "online_state", "read_online"]


def entity_key(values: Sequence[Any]) -> str:
    """An entity's key in the online store: its key values as a JSON list."""
    return json.dumps(list(values), default=str, separators=(",", ":"))


def online_state(plan: ViewPlan, files: list[str]) -> dict[str, bytes]:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("events", con.read_parquet(files, union_by_name=True))
        latest = exp.select(func("max", func("epoch_us", col(plan.event_time)))).from_(
            table_ref("events"))
        (horizon,) = con.sql(render(latest)).fetchall()[0]
        rows = con.sql(render(compile_prepared(plan, int(horizon or 0)))).to_arrow_table()
    finally:
        con.close()
    return _encode(plan, rows)


def _encode(plan: ViewPlan, rows: pa.Table) -> dict[str, bytes]:
    columns = value_columns(plan)
    filters = filters_of(plan)
    data = rows.to_pydict()
    state: dict[str, list[list[Any]]] = {}
    for i in range(rows.num_rows):
        key = entity_key([data[k][i] for k in plan.keys])
        flags = [j for j in range(len(filters)) if data[f"__f{j}"][i]]
        state.setdefault(key, []).append([data["__t"][i], data["__tie"][i], data["__k"][i],
                                          [data[c][i] for c in columns], flags])
    return {key: json.dumps({"columns": columns, "filters": filters, "events": events},
                            default=str, separators=(",", ":")).encode()
            for key, events in state.items()}


def decode_state(blob: bytes | None) -> EntityEvents:
    if blob is None:
        return EntityEvents()
    raw = json.loads(blob)
    columns, filters, events = raw["columns"], raw["filters"], raw["events"]
    none: frozenset[str] = frozenset()
    out = EntityEvents(t=[e[0] for e in events], tie=[e[1] for e in events],
                       known=[e[2] for e in events],
                       values={c: [e[3][j] for e in events] for j, c in enumerate(columns)},
                       flags=[frozenset(filters[j] for j in e[4]) if e[4] else none
                              for e in events] if filters else [])
    out.late = any(k > t for k, t in zip(out.known, out.t, strict=True))
    return out


_PLANS: dict[int, tuple[FeatureView, ViewPlan]] = {}


def _plan(view: FeatureView) -> ViewPlan:
    """The view's plan, cached by identity (hashing a view walks its whole definition)."""
    cached = _PLANS.get(id(view))
    if cached is None or cached[0] is not view:
        cached = _PLANS[id(view)] = (view, plan_view(view))
    return cached[1]


def read_online(view: FeatureView, online: OnlineStore, keys: Sequence[Sequence[Any]],
                at: datetime) -> list[dict[str, Any]]:
    plan = _plan(view)
    at_us = int(at.timestamp() * 1_000_000)
    blobs = online.read(view.name, [entity_key(k) for k in keys])
    return [evaluate_all(plan, decode_state(blob), at_us) for blob in blobs]
