"""Fuzz: malformed records and files never give a traceback, counts always reconcile, and
no stored value lies outside what its source declares (issue 7, "A fuzz test in CI").

Records: hypothesis builds CSV and JSON-lines files from hostile values (the issue's
timestamps and numbers, extreme integers, arbitrary text, nested JSON, broken lines).
Every run must reconcile, the quarantine must hold exactly what was quarantined, and
every stored row must satisfy the source's types, time range, finiteness and checks.

Files: arbitrary bytes, under every extension the connector reads, go through the
`confluens ingest` command: exit 0 or 2, a one-line error, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import confluens
from confluens.interfaces.cli import cli

DEFINITIONS = '''
from confluens import Field, NotNull, OneOf, Range, Source
tx = Source(
    "tx",
    [Field("id", "int64"), Field("ts", "timestamp"), Field("seen", "timestamp"),
     Field("amount", "float64"), Field("score", "float64", allow_nonfinite=True),
     Field("country", "string"), Field("name", "string"), Field("day", "date"),
     Field("flag", "bool")],
    "ts", id="id", known_at="seen", timezone="America/New_York",
    time_range=("1990-01-01", "2100-01-01"), epoch_unit="ms",
    checks=[Range("amount", min=0, max=1e6), OneOf("country", ["FR", "DE"]),
            NotNull("name")],
)
'''
COLUMNS = ["id", "ts", "seen", "amount", "score", "country", "name", "day", "flag"]
START, END = datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)

TIMES = ["1522922400000", "1522922400", "99999999999999", "-62135596801", "1e309", "NaN",
         "2024-01-01T00:00:00+25:00", "2024-01-01T00:00:00+05:30", "2024-02-30",
         "2024-01-01T25:00:00", "infinity", "-infinity", "epoch", "0001-01-01",
         "294247-01-10", "9" * 40, "-" + "9" * 40, "1522922400000.5", " 1522922400000 ",
         "2024-01-01 00:00:00 Europe/Paris", "2024-01-01 00:00:00 Mars/Olympus",
         "2024-03-10 02:30:00", "2024-11-03 01:30:00", "20240101", "0x10", "", " "]
NUMBERS = ["NaN", "nan", "inf", "-Infinity", "1e309", "-1e309", "1e-400", "4.9e-324", "-0",
           "1_000", " 5 ", "5,5", "0x1p3", "1e6", "1000000.0000001", "١٢", "½", "", "-5",
           "1.7976931348623157e308", "9223372036854775808"]
IDS = ["1", "2", "1.0", "1.5", "9223372036854775807", "9223372036854775808",
       "-9223372036854775808", "1e18", "1e19", "abc", "", "3"]

text = st.text(st.characters(blacklist_categories=["Cc", "Cs"]), max_size=12)
number = st.one_of(st.sampled_from(NUMBERS), st.integers().map(str),
                   st.floats().map(repr), text)
cell = {
    "id": st.one_of(st.sampled_from(IDS), st.integers(-5, 5).map(str), text),
    "ts": st.one_of(st.sampled_from(TIMES), st.integers().map(str), text),
    "seen": st.one_of(st.sampled_from(TIMES), st.just(""), text),
    "amount": number, "score": number,
    "country": st.one_of(st.sampled_from(["FR", "DE", "US", "fr", ""]), text),
    "name": st.one_of(st.sampled_from(["a", "", "null", "NULL"]), text),
    "day": st.one_of(st.sampled_from(["2024-01-01", "50229-01-01", "-5000-01-01", "0001-01-01",
                                      "2024-13-01", ""]), text),
    "flag": st.one_of(st.sampled_from(["true", "no", "1", "2", "maybe", ""]), text),
}
plausible = {
    "id": st.integers(0, 40).map(str),
    "ts": st.sampled_from(["1522922400000", "2024-03-10 02:30:00", "2024-01-01T00:00:00Z",
                           "2099-12-31 23:59:59", "631152000000"]),
    "seen": st.sampled_from(["", "2024-06-01", "1717200000000"]),
    "amount": st.sampled_from(["0", "12.5", "1e6", ""]),
    "score": st.sampled_from(["-3", "NaN", "inf", ""]),
    "country": st.sampled_from(["FR", "DE", ""]),
    "name": st.sampled_from(["a", "b c", "é"]),
    "day": st.sampled_from(["2024-01-01", ""]),
    "flag": st.sampled_from(["true", "0", ""]),
}


@st.composite
def records(draw: st.DrawFn) -> dict[str, str]:
    """A plausible record with up to two hostile values."""
    record = draw(st.fixed_dictionaries(plausible))
    for column in draw(st.lists(st.sampled_from(COLUMNS), max_size=2, unique=True)):
        record[column] = draw(cell[column])
    return record

json_value = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                                    text), lambda inner: st.lists(inner, max_size=2)
                          | st.dictionaries(text, inner, max_size=2), max_leaves=4)
broken_lines = st.sampled_from(['1,2,3', '"unclosed,quote', ',,,,,,,,,,,,', 'a,"b""c",d',
                                '{"id": 1', '[1, 2]', '"', 'x' * 300])


def csv_text(rows: list[dict[str, str]], broken: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row[c] for c in COLUMNS])
    return buffer.getvalue() + "".join(line + "\n" for line in broken)


def as_json(row: dict[str, str]) -> str:
    """A record as a JSON object: empty values left out (CSV's empty cell is a null),
    integers as JSON numbers, ids moved clear of the CSV file's ones."""
    record: dict[str, object] = {}
    for column, value in row.items():
        if value == "":
            continue
        try:
            record[column] = int(value)
        except ValueError:
            record[column] = value
    if isinstance(record.get("id"), int):
        record["id"] = int(record["id"]) + 1000  # type: ignore[call-overload]
    return json.dumps(record)


def jsonl_text(rows: list[dict[str, str]], odd: list[object], broken: list[str]) -> str:
    lines = [as_json(row) for row in rows]
    lines += [json.dumps({"id": 7, "ts": value, "amount": value, "name": value})
              for value in odd]
    return "\n".join(lines + broken) + "\n"


def assert_stored_values_are_declared(project: confluens.Project) -> None:
    table = project.table("tx")
    ids = table.column("id").to_pylist()
    assert None not in ids
    assert len(ids) == len(set(ids)), "an id is stored twice"
    for row in table.to_pylist():
        assert START <= row["ts"] < END, row
        assert row["seen"] is None or START <= row["seen"] < END, row
        if row["amount"] is not None:
            assert math.isfinite(row["amount"]), row
            assert 0 <= row["amount"] <= 1e6, row
        assert row["country"] in ("FR", "DE", None), row
        assert row["name"] is not None, row
        assert row["day"] is None or 1 <= row["day"].year <= 9999, row


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(batches=st.lists(st.tuples(st.lists(records(), max_size=10),
                                  st.lists(json_value, max_size=3),
                                  st.lists(broken_lines, max_size=2)), min_size=1, max_size=2))
def test_malformed_records_reconcile_and_store_nothing_undeclared(batches) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "confluens.toml").write_text("")
        (root / "definitions.py").write_text(DEFINITIONS)
        with confluens.open(root) as project:
            project.apply()
            quarantined = 0
            for i, (rows, odd, broken) in enumerate(batches):
                (root / f"b{i}.csv").write_text(csv_text(rows, broken))
                (root / f"b{i}.jsonl").write_text(jsonl_text(rows, odd, broken))
                for name in (f"b{i}.csv", f"b{i}.jsonl"):
                    run = project.ingest("tx", name)
                    assert run.status == "succeeded"
                    assert run.reconciles, run
                    quarantined += run.quarantined
                    event(f"{name.split('.')[1]}: stored some: {run.accepted > 0}, "
                          f"quarantined some: {run.quarantined > 0}")
                    for rule in run.rules:
                        event(f"rule {rule.split(':')[0]}")
            assert project.quarantine("tx").num_rows == quarantined
            runs = project.runs("tx")
            assert sum(r.accepted for r in runs) == project.offline.row_count("tx")
            assert_stored_values_are_declared(project)


EXTENSIONS = [".csv", ".tsv", ".jsonl", ".json", ".parquet"]
HEADER = ",".join(COLUMNS).encode()
file_bytes = st.one_of(
    st.binary(max_size=600),
    st.binary(max_size=300).map(lambda b: HEADER + b"\n" + b),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", HEADER, HEADER + b"\n", b"PAR1", b"PAR1" + b"\x00" * 20 + b"PAR1",
                     b"\xef\xbb\xbf" + HEADER + b"\n1,1522922400000,,1,1,FR,a,,\n",
                     "id,ts\n1,Jos\xe9\n".encode("latin-1"), b"\x1f\x8b\x08\x00", b"{}\n[]\n"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(st.tuples(file_bytes, st.sampled_from(EXTENSIONS)), min_size=1,
                      max_size=3))
def test_arbitrary_files_never_give_a_traceback(files) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "confluens.toml").write_text("")
        (root / "definitions.py").write_text(DEFINITIONS)
        (root / "in").mkdir()
        for i, (content, extension) in enumerate(files):
            (root / "in" / f"f{i}{extension}").write_bytes(content)
        runner = CliRunner()
        assert runner.invoke(cli, ["apply", "--project", str(root)]).exit_code == 0
        result = runner.invoke(cli, ["ingest", "tx", "in/*", "--project", str(root)])
        output = result.output
        assert result.exit_code in (0, 2), output
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            repr(result.exception)
        assert "Traceback" not in output
        if result.exit_code == 2:
            assert "error:" in output
            event("error: " + output.split("error:", 1)[1].split(";")[0][:60].strip())
        else:
            event("ingested")
        with confluens.open(root) as project:
            runs = project.runs("tx")
            assert all(r.reconciles for r in runs)
            assert sum(r.accepted for r in runs) == project.offline.row_count("tx")
            assert_stored_values_are_declared(project)
