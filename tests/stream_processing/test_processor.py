"""The stream processor on the embedded log: exact values, quarantine, lateness,
idempotence and restarts (the SIGKILL test is test_crash_recovery.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import confluens
from confluens.connectors.streams import EmbeddedLog
from confluens.project.stream.logs import embedded_log_path

from .streamed_project import (
    AFTER,
    batch_values,
    compare,
    entities,
    online_values,
    replay_all,
    streamed_project,
)


def _log(project: confluens.Project, source: str) -> EmbeddedLog:
    src = project.definitions.source(source)
    assert src.stream is not None
    return EmbeddedLog(embedded_log_path(project.config, src.stream.topic), src.stream.topic)


@pytest.fixture(scope="module")
def streamed(tmp_path_factory: pytest.TempPathFactory) -> confluens.Project:
    root = streamed_project(tmp_path_factory.mktemp("s") / "exact", customers=80,
                            terminals=120, days=10)
    project = confluens.open(root)
    replay_all(project)
    project.stream(until_idle=True, batch_size=700)
    yield project
    project.close()


@pytest.mark.parametrize("view", ["customer_spending", "terminal_risk"])
@pytest.mark.parametrize("at", [AFTER, datetime(2024, 1, 8, 8, 30, tzinfo=UTC)])
def test_online_values_after_the_stream_equal_the_batch_values(
        streamed: confluens.Project, view: str, at: datetime) -> None:
    keys = entities(streamed, view)
    assert len(keys) > 50
    online = online_values(streamed, view, keys, at)
    assert compare(keys, online, batch_values(streamed, view, keys, at)) == []
    assert any(v not in (0, None) for row in online for v in row.values())


def test_every_record_is_stored_once_and_counts_reconcile(
        streamed: confluens.Project) -> None:
    for source, data in (("transactions", "data/transactions/transactions.parquet"),
                         ("fraud_labels", "data/labels/labels.parquet")):
        import pyarrow.parquet as pq

        expected = pq.read_table(streamed.path(data)).num_rows
        assert streamed.count(source) == expected
        (status,) = [s for s in streamed.stream_status() if s.source == source]
        assert status.caught_up
        assert status.position == str(expected)
        assert (status.stats.rows_in, status.stats.accepted) == (expected, expected)


def test_bad_messages_go_to_quarantine_with_reason_and_position_and_the_stream_goes_on(
        tmp_path: Path) -> None:
    root = streamed_project(tmp_path / "bad", binding="max_message_bytes=400")
    with confluens.open(root) as project:
        log = _log(project, "transactions")
        good = {"transaction_id": 1, "tx_datetime": "2024-01-05 10:00:00",
                "customer_id": "7", "terminal_id": "3", "tx_amount": 12.5}
        log.append([
            ("7", json.dumps(good).encode()),
            (None, b"{not json"),
            ("7", json.dumps({**good, "transaction_id": 2, "tx_amount": "lots"}).encode()),
            ("7", json.dumps({k: v for k, v in good.items() if k != "customer_id"}
                             | {"transaction_id": 3}).encode()),
            (None, b"\xff\xfe not text"),
            ("7", json.dumps({**good, "transaction_id": 4, "pad": "x" * 500}).encode()),
            ("7", json.dumps({**good, "transaction_id": 5, "tx_amount": 1.0}).encode()),
            ("7", json.dumps(good).encode()),  # sent twice: a duplicate
        ])
        totals = project.stream(["transactions"], until_idle=True)["transactions"]
        assert (totals.rows_in, totals.accepted, totals.quarantined, totals.duplicates) == (
            8, 2, 5, 1)
        quarantined = project.quarantine("transactions").to_pylist()
        by_position = {r["position"]: r for r in quarantined}
        assert sorted(by_position) == [2, 3, 4, 5, 6]
        assert (by_position[2]["rule"], by_position[2]["reason"]) == (
            "parse", "parse: not a JSON object")
        assert "lots" in by_position[3]["reason"]
        assert by_position[4]["rule"] == "not_null:customer_id"
        assert by_position[5]["rule"] == "encoding"
        assert "0xff" in by_position[5]["reason"]
        assert by_position[6]["rule"] == "oversized"
        assert "400" in by_position[6]["reason"]
        assert all("partition 0 positions 1..8" in r["input"] for r in quarantined)
        row = project.online_features("customer_spending", ["7"],
                                      at=datetime(2024, 1, 6, tzinfo=UTC))[0]
        assert row["customer_nb_tx_1d"] == 2


def test_late_records_beyond_the_allowed_lateness_go_to_quarantine_and_others_correct(
        tmp_path: Path) -> None:
    root = streamed_project(tmp_path / "late", binding="allowed_lateness='1h'")
    with confluens.open(root) as project:
        log = _log(project, "transactions")

        def tx(i: int, when: str, amount: float) -> tuple[str, bytes]:
            return "7", json.dumps({"transaction_id": i, "tx_datetime": when,
                                    "customer_id": "7", "terminal_id": "3",
                                    "tx_amount": amount}).encode()

        log.append([tx(1, "2024-01-05 10:00:00", 10.0), tx(2, "2024-01-05 12:00:00", 20.0)])
        project.stream(["transactions"], until_idle=True)
        # the watermark is 12:00: 11:30 is within the hour, 10:30 is not
        log.append([tx(3, "2024-01-05 11:30:00", 30.0), tx(4, "2024-01-05 10:30:00", 40.0)])
        totals = project.stream(["transactions"], until_idle=True)["transactions"]
        assert (totals.accepted, totals.quarantined) == (1, 1)
        (late,) = project.quarantine("transactions").to_pylist()
        assert (late["rule"], late["position"]) == ("late", 4)
        assert "1h" in late["reason"]
        at = datetime(2024, 1, 5, 13, tzinfo=UTC)
        row = project.online_features("customer_spending", ["7"], at=at)[0]
        assert (row["customer_nb_tx_1d"], row["customer_avg_amount_1d"]) == (3, 20.0)
        assert compare(["7"], [dict(row)],
                       batch_values(project, "customer_spending", ["7"], at)) == []


def test_a_restarted_processor_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    root = streamed_project(tmp_path / "resume")
    with confluens.open(root) as project:
        project.replay("transactions", "data/transactions/transactions.parquet", limit=300)
        first = project.stream(["transactions"], until_idle=True)["transactions"]
        assert first.rows_in == 300
        again = project.stream(["transactions"], until_idle=True)["transactions"]
        assert again.rows_in == 0, "nothing is read twice"
        # replaying the whole file again: the first 300 are duplicates by id
        project.replay("transactions", "data/transactions/transactions.parquet")
        rest = project.stream(["transactions"], until_idle=True)["transactions"]
        total = project.count("transactions")
        assert (rest.duplicates, rest.accepted) == (300, total - 300)
        keys = entities(project, "customer_spending")
        assert compare(keys, online_values(project, "customer_spending", keys, AFTER),
                       batch_values(project, "customer_spending", keys, AFTER)) == []
