"""A fraud-template project whose sources are bound to streams, on generated data.

``streamed_project`` writes the project (not ingested: its records arrive through the
streams), ``batch_values`` and ``online_values`` read a view's features for every
entity at one instant through the batch engine and through the online store, and
``compare`` lists the differences.
"""

from __future__ import annotations

import json
import math
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

import confluens
from confluens.core.system_columns import INGESTED_AT, RUN
from confluens.datagen import FraudSimulation, write_fraud_dataset

START = "2024-01-01"  # the generated data's first day
AFTER = datetime(2024, 1, 11, 6, tzinfo=UTC)  # after the default data's last event
KEYS = {"customer_spending": "customer_id", "terminal_risk": "terminal_id"}
SOURCES = {"customer_spending": "transactions", "terminal_risk": "fraud_labels"}


def streamed_project(root: Path, *, customers: int = 60, terminals: int = 90, days: int = 12,
                     seed: int = 1, kind: str = "log", toml: str = "",
                     binding: str = "", partitions: int = 1, topic: str | None = None,
                     ) -> Path:
    """The fraud template with both sources bound to streams of ``kind`` (topics
    ``<topic>-tx`` and ``<topic>-labels``, ``topic`` defaulting to the folder name);
    ``binding`` adds keyword arguments to each StreamBinding (e.g.
    ``allowed_lateness='1d'``); ``partitions`` > 1 partitions transactions by customer
    and labels by terminal."""
    confluens.init(root, template="fraud")
    write_fraud_dataset(root / "data", FraudSimulation(n_customers=customers,
                                                       n_terminals=terminals, n_days=days,
                                                       seed=seed, start=START))
    definitions = root / "definitions.py"
    text = definitions.read_text()
    topic = topic or root.name
    for name, stream, key in (("transactions", f"{topic}-tx", "customer_id"),
                              ("fraud_labels", f"{topic}-labels", "terminal_id")):
        extra = f", {binding}" if binding else ""
        if partitions > 1:
            extra += f", key='{key}', partitions={partitions}"
        bound = f'stream=StreamBinding("log", "{name}"),'
        assert bound in text, "the template binds its sources to the embedded log"
        text = text.replace(bound, f'stream=StreamBinding("{kind}", "{stream}"{extra}),')
    definitions.write_text(text)
    if toml:
        with (root / "confluens.toml").open("a") as f:
            f.write("\n" + toml)
    with confluens.open(root) as p:
        p.apply()
    return root


def replay_all(project: confluens.Project, **options: Any) -> None:
    project.replay("transactions", "data/transactions/transactions.parquet", **options)
    project.replay("fraud_labels", "data/labels/labels.parquet", **options)


def entities(project: confluens.Project, view: str) -> list[str]:
    table = project.table(SOURCES[view], columns=[KEYS[view]])
    return sorted(set(table[KEYS[view]].to_pylist()))


def batch_values(project: confluens.Project, view: str, keys: Sequence[str],
                 at: datetime) -> list[dict[str, Any]]:
    spine = pa.table({KEYS[view]: list(keys), "ts": [at] * len(keys)})
    rows = project.training_set(spine, [view]).to_pylist()
    return [{k: v for k, v in r.items() if k not in (KEYS[view], "ts")} for r in rows]


def online_values(project: confluens.Project, view: str, keys: Sequence[str],
                  at: datetime) -> list[dict[str, Any]]:
    return [dict(r) for r in project.online_features(view, list(keys), at=at)]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12,
                                                                 abs_tol=1e-12)
    return bool(a == b)


def compare(keys: Sequence[str], left: Sequence[dict[str, Any]],
            right: Sequence[dict[str, Any]]) -> list[str]:
    """Every (key, feature) whose values differ, as text."""
    out = []
    for key, a, b in zip(keys, left, right, strict=True):
        assert a.keys() == b.keys(), (sorted(a), sorted(b))
        out += [f"{key} {f}: {a[f]!r} != {b[f]!r}" for f in a if not _same(a[f], b[f])]
    return out


def on_redis(root: Path, redis_url: str) -> None:
    """Put the project's online store on Redis, under a namespace of its own."""
    config = root / "confluens.toml"
    config.write_text(config.read_text().replace(
        'name = "fraud"', f'name = "{uuid.uuid4().hex[:8]}"').replace(
        'store = "embedded"', f'store = "redis"\nredis_url = "{redis_url}"'))


def twin_projects(tmp_path: Path, *, kind: str, redis_url: str | None = None,
                  partitions: int = 4, seed: int = 4) -> tuple[Path, Path]:
    """Two copies of one project (folders ``one`` and ``two``) with the same records
    replayed into their streams; with ``redis_url``, on the Redis online store, each
    under a namespace (project name) of its own."""
    topic = f"w{uuid.uuid4().hex[:8]}"
    one = streamed_project(tmp_path / "one", kind=kind, partitions=partitions,
                           topic=f"{topic}a", seed=seed)
    two = streamed_project(tmp_path / "two", kind=kind, partitions=partitions,
                           topic=f"{topic}b", seed=seed)
    for root in (one, two):
        if redis_url is not None:
            on_redis(root, redis_url)
        with confluens.open(root) as project:
            replay_all(project)
    return one, two


def stream_command(root: Path, *args: str) -> list[str]:
    """`confluens stream --until-idle ARGS` on ``root``, as a process of its own."""
    return [sys.executable, "-c", "from confluens.interfaces.cli.main import main; main()",
            "stream", "--until-idle", "--project", str(root), *args]


def _position(position: str | None) -> str | None:
    """A position to compare across logs: the embedded log's as it is; a Redis entry
    ID only by being there (two streams number their entries by their own clocks)."""
    if position is None or position.isdigit():
        return position
    return "some entry"


def outcome(root: Path) -> dict[str, Any]:
    """Everything a processor's effects are judged by: the stored records (without
    the system columns), the quarantine, each partition's counts, position and
    watermark, and every entity's online values."""
    with confluens.open(root) as project:
        stored = {}
        for source in ("transactions", "fraud_labels"):
            table = project.table(source)
            assert INGESTED_AT not in table.column_names
            assert RUN not in table.column_names
            stored[source] = sorted(json.dumps(r, default=str, sort_keys=True)
                                    for r in table.to_pylist())
        quarantine = sorted((r["position"], r["rule"], r["record"])
                            for r in project.quarantine("transactions").to_pylist())
        counts = {(s.source, s.partition): (s.stats.rows_in, s.stats.accepted,
                                            s.stats.quarantined, s.stats.duplicates,
                                            _position(s.position), s.stats.watermark_us)
                  for s in project.stream_status()}
        online = {view: online_values(project, view, entities(project, view), AFTER)
                  for view in KEYS}
    return {"stored": stored, "quarantine": quarantine, "counts": counts, "online": online}
