"""`confluens replay`, `confluens stream` and `confluens status` on the embedded log."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.interfaces.cli_helpers import invoke
from tests.stream_processing.streamed_project import streamed_project


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return streamed_project(tmp_path / "cli")


def test_replay_then_stream_then_status(project_dir: Path) -> None:
    code, out = invoke("replay", "transactions", "data/transactions/transactions.parquet",
                       "--limit", "200", folder=project_dir)
    assert code == 0, out
    assert "published 200 records" in out
    code, out = invoke("status", folder=project_dir)
    assert code == 0, out
    assert "behind" in out
    code, out = invoke("stream", "--until-idle", "--batch-size", "50", folder=project_dir)
    assert code == 0, out
    assert "transactions: 200 records in 4 batches: 200 accepted, 0 quarantined" in out
    code, out = invoke("status", "transactions", folder=project_dir)
    assert code == 0, out
    assert "caught up" in out
    assert "200" in out


def test_a_group_worker_streams_and_status_shows_partition_owners(project_dir: Path) -> None:
    import confluens

    assert invoke("replay", "transactions", "data/transactions/transactions.parquet",
                  "--limit", "100", folder=project_dir)[0] == 0
    code, out = invoke("stream", "--group", "--until-idle", "--lease-ttl", "1",
                       folder=project_dir)
    assert code == 0, out
    assert "transactions: 100 records" in out
    code, out = invoke("status", folder=project_dir)
    assert code == 0, out
    assert "consumer-group leases" not in out, "the workers released their leases"
    with confluens.open(project_dir) as project:  # a worker holding a partition now
        assert project.stores.online.acquire(  # type: ignore[attr-defined]
            "partition/transactions:0", "host-42-abc", 60) is not None
    code, out = invoke("status", folder=project_dir)
    assert code == 0, out
    assert "consumer-group leases" in out
    assert "host-42-abc" in out
    assert "expires in " in out


def test_status_exits_1_when_a_freshness_sla_is_breached(project_dir: Path) -> None:
    definitions = project_dir / "definitions.py"
    definitions.write_text(definitions.read_text().replace(
        '"customer_spending",\n    customer,\n    transactions,',
        '"customer_spending",\n    customer,\n    transactions,\n    freshness="1s",'))
    assert invoke("apply", folder=project_dir)[0] == 0
    assert invoke("replay", "transactions", "data/transactions/transactions.parquet",
                  "--limit", "10", folder=project_dir)[0] == 0
    code, out = invoke("status", folder=project_dir)
    assert code == 1, out
    assert "BREACH" in out
    assert "nothing was ever committed" in out


@pytest.mark.parametrize(("args", "words"), [
    (("replay", "transactions", "data/transactions/transactions.parquet", "--speed", "fast"),
     "--speed: must be a positive number followed by x"),
    (("replay", "transactions", "data/nothing.parquet"), "does not exist"),
    (("replay", "transactions", "data/late_batch.txt"), "must be .csv, .tsv, .parquet"),
    (("stream", "--worker", "2/2", "--until-idle"), "--worker: must be I/N with 0 <= I < N"),
    (("stream", "--worker", "two"), "--worker: must be I/N"),
    (("stream", "--worker", "0/2", "--group", "g", "--until-idle"),
     "--worker: a worker has fixed partitions (--worker) or is a member of a consumer "
     "group (--group), not both"),
    (("stream", "--lease-ttl", "5", "--until-idle"),
     "--lease-ttl: applies to a consumer group's leases only"),
    (("stream", "--group", "no way", "--until-idle"),
     "--group: a group name is 1 to 64 letters, digits"),
    (("stream", "--group", "g", "--lease-ttl", "0", "--until-idle"),
     "--lease-ttl: must be a number of seconds from 0.1 to 3600"),
    (("stream", "--group", "g", "--lease-ttl", "soon"), "'soon' is not a valid float"),
    (("stream", "nowhere"), "nowhere"),
])
def test_mistakes_get_one_message_with_the_fix(project_dir: Path, args: tuple[str, ...],
                                               words: str) -> None:
    code, out = invoke(*args, folder=project_dir)
    assert code == 2, out
    assert words in out
    assert "Traceback" not in out


def test_a_source_without_a_stream_is_refused_with_the_fix(tmp_path: Path) -> None:
    from tests.interfaces.cli_helpers import make_fraud_project

    folder = make_fraud_project(tmp_path / "plain", ingest=False)
    definitions = folder / "definitions.py"
    text = definitions.read_text()
    for name in ("transactions", "fraud_labels"):
        text = text.replace(f'stream=StreamBinding("log", "{name}"),', "")
    definitions.write_text(text)
    assert invoke("apply", folder=folder)[0] == 0
    code, out = invoke("stream", "--until-idle", folder=folder)
    assert code == 2, out
    assert "no source is bound to a stream" in out
    assert "StreamBinding" in out
    code, out = invoke("replay", "transactions", "data/late_batch.csv", folder=folder)
    assert code == 2, out
    assert "has no stream binding" in out


def test_help_is_there_for_every_stream_command() -> None:
    for command in ("stream", "replay", "status"):
        code, out = invoke(command, "--help")
        assert code == 0, out
        assert f"Usage: cli {command} [OPTIONS]" in out
