"""``confluens materialize``: the per-event feature table and the online state of a view.

- Offline: every feature at every event, as ``.confluens/features/<view>`` (Parquet,
  replaced atomically).
- Online: for each entity, the events that can still fall in a window from the
  latest event time on (see plan/prepared.py), encoded as JSON. A read evaluates the
  windows at the time of the read, so values decay as time passes.

A rerun skips a view whose definition and source runs have not changed since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp

from confluens.core import Duration, FeatureView
from confluens.errors import ConfigError, InputError
from confluens.plan import event_features, plan_view
from confluens.plan.ir import ViewPlan
from confluens.plan.prepared import compile_prepared, filters_of, value_columns
from confluens.sqlx import col, func, render, table_ref
from confluens.stores.offline import ParquetOfflineStore
from confluens.stores.online import OnlineStore
from confluens.streaming import EntityEvents, evaluate_all

__all__ = ["Materialized", "decode_state", "entity_key", "materialize_view", "read_online"]


@dataclass(frozen=True)
class Materialized:
    view: str
    events: int  # rows of the per-event feature table
    entities: int  # entities written to the online store
    skipped: bool  # nothing had changed since the last materialize


def entity_key(values: Sequence[Any]) -> str:
    """An entity's key in the online store: its key values as a JSON list."""
    return json.dumps(list(values), default=str, separators=(",", ":"))


def _marker(view: FeatureView, runs: Mapping[str, int]) -> str:
    body = json.dumps({"spec": view.spec(), "runs": sorted(runs.items())}, sort_keys=True,
                      default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def materialize_view(view: FeatureView, source_files: list[str], source_runs: dict[str, int],
                     features: ParquetOfflineStore, online: OnlineStore, *,
                     ttl_seconds: float | None, marker_dir: Path, run_id: str) -> Materialized:
    _check_retention(view, ttl_seconds)
    marker_path = marker_dir / f"{view.name}.json"
    marker = _marker(view, source_runs)
    if marker_path.exists() and json.loads(marker_path.read_text()).get("marker") == marker:
        return Materialized(view.name, features.row_count(view.name), 0, True)
    if not source_files:
        raise InputError(f"feature view '{view.name}'", f"source '{view.source.name}' holds no "
                         "records yet", fix=f"run `confluens ingest {view.source.name}` first")
    plan = plan_view(view)
    table = event_features(plan, source_files)
    features.replace(view.name, table, run_id=run_id, partition_by=view.source.event_time)
    state = _online_state(plan, source_files)
    online.clear(view.name)
    online.write(view.name, state, ttl_seconds=ttl_seconds)
    marker_dir.mkdir(parents=True, exist_ok=True)
    marker_path.write_text(json.dumps({"marker": marker, "at": datetime.now(UTC).isoformat()}))
    return Materialized(view.name, table.num_rows, len(state), False)


def _check_retention(view: FeatureView, ttl_seconds: float | None) -> None:
    """A delay longer than the online retention could only ever read expired state."""
    if ttl_seconds is None:
        return
    for agg in plan_view(view).aggregations:
        if agg.delay_us / 1_000_000 > ttl_seconds:
            raise ConfigError(
                f"feature '{agg.output}' of view '{view.name}'",
                "its delay is longer than the online retention ([online] ttl)",
                got=f"delay {Duration(agg.delay_us)} > ttl {Duration(int(ttl_seconds * 1e6))}",
                fix=f"raise [online] ttl in confluens.toml to at least {Duration(agg.delay_us)}, "
                "or shorten the delay")


def _online_state(plan: ViewPlan, files: list[str]) -> dict[str, bytes]:
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
