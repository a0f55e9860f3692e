"""The shared fraud data (the handbook's real transactions) replayed through the
embedded log and through Redis Streams: after `stream`, every customer's and
terminal's online values equal the batch engine's at the same instant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import confluens

from .streamed_project import compare

DAYS = 21  # the first three weeks: about 240,000 transactions
REPO = Path(__file__).resolve().parents[2]


def _definitions(kind: str, topic: str) -> str:
    """The benchmarks' handbook definitions (the shared file's own columns), with the
    transactions bound to a stream of ``kind``."""
    text = (REPO / "benchmarks" / "fraud_definitions.py").read_text()
    text = text.replace("Source, Sum", "Source, StreamBinding, Sum")
    binding = f'    stream=StreamBinding("{kind}", "{topic}"),\n'
    bound = text.replace('    id="transaction_id",\n', '    id="transaction_id",\n' + binding)
    assert bound != text, "benchmarks/fraud_definitions.py changed its source"
    return bound


def _project(root: Path, shared: Path, kind: str, toml: str) -> tuple[Path, datetime]:
    root.mkdir(parents=True)
    topic = f"shared-{uuid.uuid4().hex[:8]}"
    (root / "definitions.py").write_text(_definitions(kind, topic))
    (root / "confluens.toml").write_text(f'[project]\nname = "{topic}"\n{toml}')
    table = pq.read_table(shared / "fraud" / "transactions_2018-04_to_08.parquet",
                          columns=["TRANSACTION_ID", "TX_DATETIME", "CUSTOMER_ID",
                                   "TERMINAL_ID", "TX_AMOUNT", "TX_FRAUD"])
    start = datetime(2018, 4, 1)
    end = start + timedelta(days=DAYS)
    table = table.filter(pc.less(table["TX_DATETIME"], pa.scalar(end, pa.timestamp("ns"))))
    pq.write_table(table, root / "replay.parquet")
    with confluens.open(root) as project:
        project.apply()
    return root, end.replace(tzinfo=UTC) + timedelta(hours=6)


def _check(root: Path, at: datetime) -> None:
    with confluens.open(root) as project:
        assert project.replay("transactions", "replay.parquet") > 200_000
        totals = project.stream(until_idle=True)["transactions"]
        assert totals.accepted == totals.rows_in == project.count("transactions")
        for view, key in (("customer", "customer_id"), ("terminal", "terminal_id")):
            keys = sorted(set(project.table("transactions", columns=[key])[key].to_pylist()))
            online = [dict(r) for r in project.online_features(view, keys, at=at)]
            spine = pa.table({key: keys, "ts": [at] * len(keys)})
            batch = [{k: v for k, v in r.items() if k not in (key, "ts")}
                     for r in project.training_set(spine, [view]).to_pylist()]
            assert compare(keys, online, batch) == []
            assert sum(r["c30" if view == "customer" else "t30"] for r in online) > 0


@pytest.mark.shared_data
def test_shared_fraud_data_through_the_embedded_log(tmp_path: Path, shared_data: Path) -> None:
    _check(*_project(tmp_path / "log", shared_data, "log", ""))


@pytest.mark.shared_data
@pytest.mark.service("redis")
def test_shared_fraud_data_through_redis_streams(tmp_path: Path, shared_data: Path,
                                                 redis_url: str) -> None:
    toml = f'[online]\nstore = "redis"\nredis_url = "{redis_url}"\n'
    _check(*_project(tmp_path / "redis", shared_data, "redis", toml))
