"""Re-ingesting adds nothing; ids identify records, content hashes stand in where there is none."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_csv

NO_ID = '''
from confluens import Source, Range
events = Source("events", {"ts": "timestamp", "user": "string", "value": "float64"}, "ts",
                checks=[Range("value", min=0)])
'''
WITH_ID = '''
from confluens import Source, Range
events = Source("events", {"id": "string", "ts": "timestamp", "user": "string",
                           "value": "float64"}, "ts", id="id", checks=[Range("value", min=0)])
'''


def counts(run) -> tuple[int, int, int, int]:
    assert run.reconciles
    return run.rows_in, run.accepted, run.quarantined, run.duplicates


def test_reingesting_the_same_file_adds_nothing(make_project, tmp_path: Path) -> None:
    project = make_project(NO_ID)
    project.apply()
    rows = [["2024-01-01 00:00", "a", 1.0], ["2024-01-01 00:01", "b", -2.0],
            ["2024-01-02 00:00", "a", 3.0]]
    path = write_csv(tmp_path / "e.csv", rows, header=["ts", "user", "value"])
    assert counts(project.ingest("events", str(path))) == (3, 2, 1, 0)
    stored = project.table("events", system_columns=True)
    assert counts(project.ingest("events", str(path))) == (3, 0, 0, 3)
    assert project.table("events", system_columns=True).equals(stored)
    assert project.quarantine("events").num_rows == 1


def test_exact_duplicates_within_one_input_are_counted_once(make_project, tmp_path) -> None:
    project = make_project(NO_ID)
    project.apply()
    row = ["2024-01-01 00:00", "a", 1.0]
    bad = ["2024-01-01 00:00", "a", -1.0]
    path = write_csv(tmp_path / "e.csv", [row, row, bad, bad, row],
                     header=["ts", "user", "value"])
    assert counts(project.ingest("events", str(path))) == (5, 1, 1, 3)


def test_same_content_hash_across_formats(make_project, tmp_path: Path) -> None:
    project = make_project(NO_ID)
    project.apply()
    csv_path = write_csv(tmp_path / "e.csv", [["2024-01-01T00:00:00Z", "a", 1.5]],
                         header=["ts", "user", "value"])
    json_path = tmp_path / "e.jsonl"
    json_path.write_text('{"ts": "2024-01-01 00:00:00", "user": "a", "value": 1.5}\n')
    assert counts(project.ingest("events", str(csv_path))) == (1, 1, 0, 0)
    assert counts(project.ingest("events", str(json_path))) == (1, 0, 0, 1)


def test_same_id_other_content_is_an_id_conflict(make_project, tmp_path: Path) -> None:
    project = make_project(WITH_ID)
    project.apply()
    header = ["id", "ts", "user", "value"]
    first = write_csv(tmp_path / "a.csv", [["x1", "2024-01-01", "a", 1.0]], header=header)
    second = write_csv(tmp_path / "b.csv", [["x1", "2024-01-01", "a", 1.0],
                                            ["x1", "2024-01-01", "a", 9.0],
                                            ["x2", "2024-01-01", "b", 2.0],
                                            ["x2", "2024-01-01", "b", 3.0]], header=header)
    assert counts(project.ingest("events", str(first))) == (1, 1, 0, 0)
    run = project.ingest("events", str(second))
    assert counts(run) == (4, 1, 2, 1)
    assert run.rules == {"id_conflict": 2}
    reasons = sorted(project.quarantine("events").column("reason").to_pylist())
    assert reasons == ["id_conflict: id 'x1' was already ingested with different content",
                       "id_conflict: id 'x2' was already ingested with different content"]
    assert sorted(project.table("events").column("value").to_pylist()) == [1.0, 2.0]
    # and again: the conflicts are already in quarantine, so nothing more is added
    assert counts(project.ingest("events", str(second))) == (4, 0, 0, 4)


def test_glob_dedups_across_its_files(make_project, tmp_path: Path) -> None:
    project = make_project(WITH_ID)
    project.apply()
    header = ["id", "ts", "user", "value"]
    (tmp_path / "in").mkdir()
    write_csv(tmp_path / "in" / "1.csv", [["a", "2024-01-01", "u", 1.0]], header=header)
    write_csv(tmp_path / "in" / "2.csv", [["a", "2024-01-01", "u", 1.0],
                                          ["b", "2024-01-02", "u", 2.0]], header=header)
    assert counts(project.ingest("events", str(tmp_path / "in" / "*.csv"))) == (3, 2, 0, 1)
