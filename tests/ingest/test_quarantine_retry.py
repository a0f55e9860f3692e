"""Quarantined records can be ingested again after the definitions are fixed."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_csv

STRICT = '''
from confluens import Source, OneOf
tx = Source("tx", {"id": "int64", "ts": "timestamp", "country": "string"}, "ts", id="id",
            checks=[OneOf("country", ["FR", "DE"])])
'''


def test_retry_after_relaxing_a_check(make_project, tmp_path: Path) -> None:
    project = make_project(STRICT)
    project.apply()
    rows = [[1, "2024-01-01", "FR"], [2, "2024-01-01", "ES"], [3, "2024-01-01", "US"],
            [4, "soon", "FR"]]
    path = write_csv(tmp_path / "tx.csv", rows, header=["id", "ts", "country"])
    first = project.ingest("tx", str(path))
    assert (first.accepted, first.quarantined) == (1, 3)

    (project.root / "definitions.py").write_text(STRICT.replace('["FR", "DE"]',
                                                                '["FR", "DE", "ES"]'))
    fixed = type(project)(project.root)
    assert [c.key for c in fixed.apply().changed] == ["source:tx"]
    retry = fixed.retry_quarantine("tx")
    assert retry.reconciles
    assert (retry.rows_in, retry.accepted, retry.quarantined) == (3, 1, 2)
    assert sorted(fixed.table("tx").column("id").to_pylist()) == [1, 2]
    pending = fixed.quarantine("tx")
    assert sorted(pending.column("rule").to_pylist()) == ["one_of:country", "type:ts"]
    assert fixed.quarantine("tx", include_retried=True).num_rows == 5
    # nothing is lost: every input record is stored or pending in quarantine
    assert fixed.table("tx").num_rows + pending.num_rows == len(rows)
    # a second retry with nothing fixed changes nothing
    again = fixed.retry_quarantine("tx")
    assert (again.rows_in, again.accepted, again.quarantined) == (2, 0, 2)
    assert fixed.quarantine("tx").num_rows == 2
    fixed.close()
