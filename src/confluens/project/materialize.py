"""``confluens materialize``: the per-event feature table and the online state of a view.

- Offline: every feature at every event, as ``.confluens/features/<view>`` (Parquet,
  replaced atomically).
- Online: for each entity, the events that can still fall in a window (see
  project/online_state.py). A read evaluates the
  windows at the time of the read, so values decay as time passes.

A rerun skips a view whose definition and source runs have not changed since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from confluens.core import Duration, FeatureView
from confluens.errors import ConfigError, InputError
from confluens.plan import event_features, plan_view
from confluens.project.online_state import online_state
from confluens.stores.offline import ParquetOfflineStore
from confluens.stores.online import OnlineStore

__all__ = ["Materialized", "materialize_view"]


@dataclass(frozen=True)
class Materialized:
    view: str
    events: int  # rows of the per-event feature table
    entities: int  # entities written to the online store
    skipped: bool  # nothing had changed since the last materialize


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
    state = online_state(plan, source_files)
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


