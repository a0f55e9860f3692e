"""Files that are empty, in another encoding, not files, or not CSV (issue 7, "Files").

A glob commits file by file. Everything that can be seen from a file's first 64 KiB is
checked for every file before the first one is read, so such a mistake anywhere in a
glob commits nothing; a mistake found deeper stops the run at that file, recorded as
failed with what it committed, and a re-run adds exactly what is missing.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from confluens.errors import DefinitionError, SchemaMismatchError, SourceReadError

DEFINITIONS = '''
from confluens import Custom, Source, Unique

def positive(df):
    """id is positive"""
    return (df["id"] > 0).to_numpy()

tx = Source("tx", {{"id": "int64", "ts": "timestamp", "name": "string"}}, "ts", id="id",
            checks=[Unique("name"), Custom("id", fn=positive, name="positive")]{extra})
'''

HEADER = "id,ts,name\n"


@pytest.fixture
def tx(make_project):
    project = make_project(DEFINITIONS.format(extra=""))
    project.apply()
    return project


def rows(first: int, n: int) -> str:
    return "".join(f"{i},2024-01-01 00:00:{i % 60:02d},n{i}\n" for i in range(first, first + n))


def stored_ids(project) -> list[int]:
    return sorted(project.table("tx").column("id").to_pylist())


def assert_runs_agree_with_store(project) -> None:
    runs = project.runs("tx")
    assert all(r.reconciles for r in runs)
    assert sum(r.accepted for r in runs) == project.offline.row_count("tx")


# -- empty files ------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "content"), [
    ("header.csv", HEADER.encode()), ("header.tsv", b"id\tts\tname\n"),
    ("header_no_newline.csv", b"id,ts,name"), ("zero.csv", b""), ("zero.jsonl", b""),
    ("blank_lines.jsonl", b"\n\n  \n"), ("zero.parquet", b""),
])
def test_an_empty_file_contributes_no_records(tx, tmp_path: Path, name: str,
                                              content: bytes) -> None:
    (tmp_path / name).write_bytes(content)
    run = tx.ingest("tx", str(tmp_path / name))
    assert (run.status, run.rows_in, run.accepted, run.quarantined) == ("succeeded", 0, 0, 0)
    assert tx.table("tx").num_rows == 0


def test_an_empty_parquet_table_contributes_no_records(tx, tmp_path: Path) -> None:
    empty = pa.table({"id": pa.array([], pa.int64()), "ts": pa.array([], pa.string()),
                      "name": pa.array([], pa.string())})
    pq.write_table(empty, tmp_path / "empty.parquet")
    run = tx.ingest("tx", str(tmp_path / "empty.parquet"))
    assert (run.status, run.rows_in) == ("succeeded", 0)


def test_empty_files_inside_a_glob_do_not_stop_it(tx, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(1, 3))
    (folder / "b.csv").write_text(HEADER)
    (folder / "c.csv").write_text("")
    (folder / "d.csv").write_text(HEADER + rows(4, 3))
    run = tx.ingest("tx", str(folder / "*.csv"))
    assert (run.status, run.rows_in, run.accepted) == ("succeeded", 6, 6)
    assert stored_ids(tx) == [1, 2, 3, 4, 5, 6]


# -- encodings --------------------------------------------------------------------------

@pytest.mark.parametrize(("encoding", "name"), [("latin-1", "José"), ("cp1252", "5 €"),
                                                ("utf-16", "Zoë ☃"), ("utf-8-sig", "Ωmega")])
def test_a_source_reads_its_encoding(make_project, tmp_path: Path, encoding: str,
                                     name: str) -> None:
    project = make_project(DEFINITIONS.format(extra=f", encoding={encoding!r}"))
    project.apply()
    (tmp_path / "a.csv").write_bytes((HEADER + f"1,2024-01-01,{name}\n").encode(encoding))
    (tmp_path / "b.jsonl").write_bytes(
        f'{{"id": 2, "ts": "2024-01-01", "name": "{name}!"}}\n'.encode(encoding))
    project.ingest("tx", str(tmp_path / "a.csv"))
    project.ingest("tx", str(tmp_path / "b.jsonl"))
    assert project.table("tx").column("name").to_pylist() == [name, f"{name}!"]


def test_a_decode_error_names_the_file_the_offset_and_the_fix(tx, tmp_path: Path) -> None:
    data = (HEADER + "1,2024-01-01,Jos").encode() + b"\xe9\n"
    (tmp_path / "latin.csv").write_bytes(data)
    with pytest.raises(SourceReadError) as caught:
        tx.ingest("tx", str(tmp_path / "latin.csv"))
    message = str(caught.value)
    offset = data.index(b"\xe9")
    assert message.startswith("input latin.csv: is not valid utf-8 text: byte 0xe9 at byte "
                              f"offset {offset} (line 2) does not decode")
    assert "set encoding= on the source" in message
    assert tx.runs() == []


def test_a_decode_error_deep_in_a_large_file_is_found(tx, tmp_path: Path) -> None:
    body = rows(1, 5000).encode()
    data = HEADER.encode() + body + b"5001,2024-01-01,\xff\n"
    assert len(data) > 64 * 1024
    (tmp_path / "big.csv").write_bytes(data)
    with pytest.raises(SourceReadError, match=rf"byte offset {len(data) - 2} \(line 5002\)"):
        tx.ingest("tx", str(tmp_path / "big.csv"))
    assert tx.table("tx").num_rows == 0


def test_an_unknown_encoding_is_a_definition_error() -> None:
    from confluens import Source

    with pytest.raises(DefinitionError, match="encoding must name a text encoding"):
        Source("s", {"ts": "timestamp"}, "ts", encoding="klingon")
    with pytest.raises(DefinitionError, match="encoding must name a text encoding"):
        Source("s", {"ts": "timestamp"}, "ts", encoding="rot13")


# -- not a file, not CSV ----------------------------------------------------------------

def test_a_directory_named_like_a_file_says_so(tx, tmp_path: Path) -> None:
    (tmp_path / "x.csv").mkdir()
    with pytest.raises(SourceReadError, match=r"must name files, but names a directory"
                       r".*Fix: ingest the files inside it, e\.g\. '.*x\.csv/\*\.csv'"):
        tx.ingest("tx", str(tmp_path / "x.csv"))
    (tmp_path / "y.csv").write_text(HEADER)
    with pytest.raises(SourceReadError, match="names a directory"):
        tx.ingest("tx", str(tmp_path / "*.csv"))  # a glob would have skipped x.csv's records


@pytest.mark.parametrize(("content", "said"), [
    (os.urandom(4096).replace(b"\n", b"\x00"), "holds binary data (a NUL byte at byte offset"),
    (bytes(range(1, 32)) * 20, "holds binary data (500 control characters"),
    (gzip.compress((HEADER + rows(1, 5)).encode()), "starts like a gzip-compressed file"),
    (b"PAR1" + os.urandom(100), "starts like a Parquet file"),
    (b"rm1Ou7vZ0kQ9s2Jx8aLpT4yB6cN3eH5f\nqW2eR4tY6uI8oP0a\n",
     "does not look like a CSV file of this source: its first line names none"),
])
def test_garbage_does_not_look_like_csv(tx, tmp_path: Path, content: bytes, said: str) -> None:
    (tmp_path / "g.csv").write_bytes(content)
    with pytest.raises(SourceReadError, match=r"input g\.csv: does not look like a CSV file") as e:
        tx.ingest("tx", str(tmp_path / "g.csv"))
    assert said in str(e.value)


def test_garbage_in_place_of_parquet_or_json_lines(tx, tmp_path: Path) -> None:
    (tmp_path / "g.parquet").write_bytes(b"id,ts\n1,2\n")
    with pytest.raises(SourceReadError, match="does not look like a Parquet file"):
        tx.ingest("tx", str(tmp_path / "g.parquet"))
    (tmp_path / "g.jsonl").write_bytes(b"\x00\x01\x02" * 50)
    with pytest.raises(SourceReadError, match="does not look like a JSON-lines file"):
        tx.ingest("tx", str(tmp_path / "g.jsonl"))


# -- a glob: what is checked before, and what a failure midway leaves -------------------

@pytest.mark.parametrize(("bad", "error"), [
    (b"\x00\x01binary", SourceReadError), (b"id,ts\n1,2024-01-01\n", SchemaMismatchError),
    (b"id,id,ts,name\n", SourceReadError), (HEADER.encode() + b"9,2024-01-01,\xe9\n",
                                            SourceReadError)])
def test_a_bad_file_anywhere_in_a_glob_commits_nothing(tx, tmp_path: Path, bad: bytes,
                                                       error: type[Exception]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(1, 3))
    (folder / "b.csv").write_bytes(bad)
    (folder / "c.csv").write_text(HEADER + rows(4, 3))
    with pytest.raises(error):
        tx.ingest("tx", str(folder / "*.csv"))
    assert tx.table("tx").num_rows == 0
    assert tx.runs() == []


def test_a_failure_midway_records_what_was_committed(tx, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(1, 3))
    bad = HEADER.encode() + rows(4, 3000).encode() + b"3004,2024-01-01,\xe9\n"
    (folder / "b.csv").write_bytes(bad)  # the bad byte lies beyond the first 64 KiB
    (folder / "c.csv").write_text(HEADER + rows(5000, 3))
    with pytest.raises(SourceReadError, match=r"input b\.csv: is not valid utf-8"):
        tx.ingest("tx", str(folder / "*.csv"))
    (run,) = tx.runs("tx")
    assert (run.status, run.rows_in, run.accepted) == ("failed", 3, 3)
    assert "b.csv" in (run.error or "")
    assert_runs_agree_with_store(tx)

    (folder / "b.csv").write_bytes(bad.replace(b"\xe9", b"e"))
    again = tx.ingest("tx", str(folder / "*.csv"))
    assert (again.status, again.accepted, again.duplicates) == ("succeeded", 3004, 3)
    assert stored_ids(tx) == [*range(1, 3005), 5000, 5001, 5002]
    assert_runs_agree_with_store(tx)


WARNED = '''
from confluens import Range, Source

tx = Source("tx", {"id": "int64", "ts": "timestamp", "amount": "float64"}, "ts", id="id",
            checks=[Range("amount", max=5_000, on_fail="warn", name="plausible")])
'''


@pytest.mark.parametrize("content", [b"", b"id,ts,amount\n"])
def test_an_empty_file_of_a_source_with_a_warning_check_adds_nothing(
        make_project, tmp_path: Path, content: bytes) -> None:
    """A warning check's count over no records is zero, not a crash (it was NULL)."""
    project = make_project(WARNED)
    project.apply()
    (tmp_path / "empty.csv").write_bytes(content)
    run = project.ingest("tx", str(tmp_path / "empty.csv"))
    assert (run.status, run.rows_in, run.accepted, run.quarantined) == ("succeeded", 0, 0, 0)
    (tmp_path / "one.csv").write_text("id,ts,amount\n1,2024-01-01 00:00:00,9000\n")
    run = project.ingest("tx", str(tmp_path / "one.csv"))
    assert (run.status, run.accepted, dict(run.warnings)) == ("succeeded", 1, {"plausible": 1})
