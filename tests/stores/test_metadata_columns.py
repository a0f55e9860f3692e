"""A metadata database written by an older release gains the run columns it lacks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from confluens.stores.metadata import IngestRun, SqlMetadataStore
from confluens.stores.metadata.sql import runs as runs_table


def test_an_older_runs_table_gains_pid_and_host(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    old = sa.MetaData()
    # the table as releases before pid/host created it
    columns = [sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
               for c in runs_table.columns if c.name not in ("pid", "host")]
    sa.Table(runs_table.name, old, *columns).create(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO confluens_ingest_runs (run_id, source, input, definition_version, "
            "started_at, status, rows_in, accepted, quarantined, duplicates, warnings, rules) "
            "VALUES ('old', 'tx', 'a.csv', 1, '2024-01-01 00:00:00', 'succeeded', 3, 2, 1, 0, "
            "'{}', '{}')"))
    engine.dispose()

    store = SqlMetadataStore(url)
    try:
        (old_run,) = store.runs("tx")
        assert (old_run.run_id, old_run.accepted, old_run.pid, old_run.host) == ("old", 2,
                                                                                 None, None)
        new = IngestRun("new", "tx", "b.csv", 1, datetime(2024, 2, 1, tzinfo=UTC), pid=42,
                        host="h")
        store.start_run(new)
        assert store.runs("tx")[1] == new
    finally:
        store.close()
    again = SqlMetadataStore(url)  # a second open finds nothing to add
    try:
        assert [r.run_id for r in again.runs()] == ["old", "new"]
    finally:
        again.close()
