"""``confluens materialize``: the per-event feature table and the online state of a view.

- Offline: every feature at every event, as ``.confluens/features/<view>`` (Parquet
  by event date, committed atomically; see feature_table.py).
- Online: for each entity, the events that can still fall in a window (see
  online_state.py). A read evaluates the windows at the time of the read, so values
  decay as time passes.

A rerun skips a view whose definition and source runs have not changed since, and
after new ingests recomputes only the rows and entities they can change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluens.core import Duration, FeatureView
from confluens.errors import ConfigError, InputError
from confluens.plan import event_features, plan_view
from confluens.project.feature_table import Region, changed_entities, update_region
from confluens.project.instants import check_range
from confluens.project.online_state import STATE_FORMAT, online_state
from confluens.stores.offline import FeatureTableStore, OfflineStore
from confluens.stores.offline.manifest import write_atomically
from confluens.stores.online import OnlineStore

__all__ = ["Materialized", "SourceData", "materialize_view"]


@dataclass(frozen=True)
class Materialized:
    view: str
    events: int  # rows of the per-event feature table
    entities: int  # entities whose online state was written
    mode: str  # "full", "incremental", "range", or "skipped" (nothing had changed)
    recomputed: int = 0  # feature-table rows computed by this run
    reason: str = ""  # why this mode, e.g. "the online store changed (embedded:... -> ...)"

    @property
    def skipped(self) -> bool:
        return self.mode == "skipped"


@dataclass(frozen=True)
class SourceData:
    """Where a view's source records are: the offline store and the source's name."""

    store: OfflineStore
    name: str


def _spec_hash(view: FeatureView) -> str:
    """The definition, and the online state's format: a change of either rebuilds."""
    spec = {k: v for k, v in view.spec().items() if k != "freshness"}  # not the values'
    body = json.dumps({"spec": spec, "state": STATE_FORMAT}, sort_keys=True,
                      default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _previous(path: Path) -> dict[str, Any] | None:
    """The last materialize's record: the definition it used and the runs it covered.

    A missing, unreadable or older-format record means "rebuild in full"."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(raw, dict) and isinstance(raw.get("spec"), str) and isinstance(
        raw.get("runs"), dict)
    return raw if ok else None


def _record(path: Path, spec: str, runs: dict[str, int], store: str) -> None:
    """Write the materialize record atomically (a crash leaves the old one or the new):
    the definition, the source runs covered and the online store written to."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps({"spec": spec, "runs": runs, "store": store,
                                       "at": datetime.now(UTC).isoformat()}))


def _full_reason(previous: dict[str, Any] | None, spec: str, store: str) -> str:
    if previous is None:
        return "first materialize (or its record was unreadable)"
    if previous["spec"] != spec:
        return "the definition changed"
    if previous.get("store") != store:
        return f"the online store changed ({previous.get('store') or 'unrecorded'} -> {store})"
    return "the source's ingest runs changed other than by new runs"


def materialize_view(view: FeatureView, source: SourceData, features: FeatureTableStore,
                     online: OnlineStore, *, ttl_seconds: float | None, marker_dir: Path,
                     run_id: str, start: datetime | None = None,
                     end: datetime | None = None,
                     progress: Callable[[str], None] | None = None) -> Materialized:
    """Bring the view's feature table and online state up to date with its source.

    - Nothing changed since the last run (same definition, same ingest runs): skipped.
    - Only new ingest runs: incremental (see feature_table.py); the online state of the
      entities that got records is rewritten.
    - Otherwise (first run, changed definition): full.
    - With ``start``/``end``: the feature table's rows in ``[start, end)`` are rebuilt
      from the current records; the online state is left alone.

    ``progress`` is told the name of each stage as it begins.
    """
    step = progress or (lambda _: None)
    _check_retention(view, ttl_seconds)
    # one snapshot of the source: an ingest committing meanwhile is left for the next run
    runs = source.store.runs(source.name)
    files = source.store.files(source.name, runs=set(runs))
    if not files:
        raise InputError(f"feature view '{view.name}'", f"source '{view.source.name}' holds no "
                         "records yet", fix=f"run `confluens ingest {view.source.name}` first")
    plan = plan_view(view)
    marker_path = marker_dir / f"{view.name}.json"
    previous = _previous(marker_path)
    spec = _spec_hash(view)
    if start is not None or end is not None:
        check_range(start, end)
        if previous is None or previous["spec"] != spec:
            raise InputError(f"feature view '{view.name}'", "a range can only be rebuilt in "
                             "a feature table built from the current definition",
                             got="no table yet" if previous is None else "an older definition",
                             fix=f"run `confluens materialize {view.name}` first (a full build)")
        step("rebuilding the range")
        done = update_region(plan, Region(start=start, end=end), files, features, view.name,
                             run_id)
        return Materialized(view.name, features.row_count(view.name), 0, "range", done)
    store = online.location  # every OnlineStore names itself (protocol.py)
    # the same definition, written to the same online store
    same_spec = previous is not None and previous["spec"] == spec and previous.get(
        "store") == store
    if same_spec and previous["runs"] == runs:  # type: ignore[index]
        return Materialized(view.name, features.row_count(view.name), 0, "skipped",
                            reason="no new ingest runs and the same definition and store")
    grown = same_spec and all(runs.get(r) == n for r, n in previous["runs"].items())  # type: ignore[index]
    if grown and features.row_count(view.name):
        new = {r for r in runs if r not in previous["runs"]}  # type: ignore[index]
        step("finding the entities new records change")
        changed = changed_entities(plan, source.store.files(source.name, runs=new))
        step("updating the feature table")
        done = update_region(plan, Region(entities=changed), files, features, view.name, run_id)
        step("writing the online state")
        state = online_state(plan, files, entities=changed.select(list(plan.keys)))
        online.write(view.name, state, ttl_seconds=ttl_seconds)
        mode, reason = "incremental", f"{len(new)} new ingest run(s)"
    else:
        reason = _full_reason(previous, spec, store)
        step("computing features at every event")
        table = event_features(plan, files)
        step("writing the feature table")
        features.replace(view.name, table, run_id=run_id, partition_by=view.source.event_time)
        step("writing the online state")
        state = online_state(plan, files)
        online.replace(view.name, state, ttl_seconds=ttl_seconds)
        done, mode = table.num_rows, "full"
    _record(marker_path, spec, runs, store)
    return Materialized(view.name, features.row_count(view.name), len(state), mode, done,
                        reason)



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


