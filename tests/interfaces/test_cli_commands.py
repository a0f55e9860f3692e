"""The commands a newcomer meets: spine, generate's dates, runs, show and quarantine
numbers, and the lazily loaded command table."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import confluens
from confluens.interfaces.cli import cli
from confluens.interfaces.cli.context import err, out
from confluens.interfaces.cli.generate import simulated_days
from confluens.interfaces.cli.main import COMMANDS
from tests.interfaces.cli_helpers import invoke, make_fraud_project


@pytest.fixture(autouse=True)
def wide_console() -> Iterator[None]:
    widths = out.width, err.width
    out.width = err.width = 200
    yield
    out.width, err.width = widths


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fraud_project(tmp_path_factory.mktemp("cmds") / "fraud")


def stored_times(project: Path) -> list[dt.datetime]:
    with confluens.open(project) as p:
        return p.table("transactions", columns=["tx_datetime"]).column(0).to_pylist()


def test_spine_last_takes_the_datas_last_span(project: Path) -> None:
    code, text = invoke("spine", "transactions", "--last", "1d", "--out", "s/last.parquet",
                        folder=project)
    assert code == 0, text
    spine = pq.read_table(project / "s" / "last.parquet")
    times = stored_times(project)
    latest = max(times)
    expected = sorted(t for t in times if latest - dt.timedelta(days=1) < t <= latest)
    assert spine.column("tx_datetime").to_pylist() == expected
    assert f"wrote {len(expected):,} rows of transactions" in text
    assert spine.column_names == ["transaction_id", "tx_datetime", "customer_id",
                                  "terminal_id", "tx_amount"]


def test_spine_start_end_and_where(project: Path) -> None:
    code, text = invoke("spine", "transactions", "--start", "2018-04-02T00:00:00Z",
                        "--end", "2018-04-03T00:00:00Z", "--where", "tx_amount > 50",
                        "-c", "customer_id", "--out", "mid.csv", folder=project)
    assert code == 0, text
    low, high = (dt.datetime(2018, 4, d, tzinfo=dt.UTC) for d in (2, 3))
    with confluens.open(project) as p:
        stored = p.table("transactions", columns=["tx_datetime", "tx_amount"])
    expected = sum(1 for t, a in zip(*(c.to_pylist() for c in stored.columns), strict=True)
                   if low <= t < high and a > 50)
    lines = (project / "mid.csv").read_text().splitlines()
    assert lines[0] == '"customer_id","tx_datetime"'
    assert len(lines) == expected + 1


def test_a_spine_feeds_a_training_set(project: Path) -> None:
    assert invoke("spine", "transactions", "--last", "2d", "--out", "spine.parquet",
                  folder=project)[0] == 0
    code, text = invoke("training-set", "--spine", "spine.parquet", "-f", "customer_spending",
                        "--out", "train.parquet", folder=project)
    assert code == 0, text
    train = pq.read_table(project / "train.parquet")
    assert train.num_rows == pq.read_table(project / "spine.parquet").num_rows
    assert pc.min(train.column("customer_nb_tx_7d")).as_py() >= 1, "each row sees itself"


@pytest.mark.parametrize(("args", "message"), [
    (("--last", "7d", "--start", "2018-04-02T00:00:00Z"), "--last: cannot be combined"),
    (("--last", "seven days"), "--last: must be a whole number and a unit"),
    (("--start", "2018-04-02"), "--start: must carry a time zone"),
    (("--start", "2018-04-03T00:00:00Z", "--end", "2018-04-02T00:00:00Z"),
     "--end: must be after --start"),
    (("--where", "nope > 1"), "names a column the source does not have"),
    (("--last", "0d"), "--last: must be a span longer than zero"),
])
def test_spine_mistakes(project: Path, args: tuple[str, ...], message: str) -> None:
    code, text = invoke("spine", "transactions", *args, "--out", "x.parquet", folder=project)
    assert code == 2, text
    assert message in text
    assert "Traceback" not in text


def test_spine_last_longer_than_all_time_takes_every_record(project: Path) -> None:
    code, text = invoke("spine", "transactions", "--last", "100000000w", "--out", "all.parquet",
                        folder=project)
    assert code == 0, text
    with confluens.open(project) as opened:
        stored = opened.count("transactions")
    assert pq.read_table(project / "all.parquet").num_rows == stored > 0


def test_generate_ends_yesterday_by_default_with_a_late_batch_inside(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.UTC).date()
    code, text = invoke("generate", "fraud", str(tmp_path / "d"), "--customers", "20",
                        "--terminals", "50", "--days", "3")
    assert code == 0, text
    times = pq.read_table(tmp_path / "d" / "transactions" / "transactions.parquet"
                          ).column("tx_datetime").to_pylist()
    first, last = today - dt.timedelta(days=3), today - dt.timedelta(days=1)
    assert min(times).date() >= first
    assert max(times).date() == last
    assert f"from {first} to {last}" in text
    late = (tmp_path / "d" / "late_batch.csv").read_text()
    assert f"90000001,{last.isoformat()} 09:15:00" in late


def test_simulated_days() -> None:
    today = dt.date(2024, 1, 31)
    assert simulated_days(1, None, None, today) == (dt.date(2024, 1, 30),) * 2
    assert simulated_days(3, None, "2020-01-01", today) == (dt.date(2019, 12, 29),
                                                             dt.date(2019, 12, 31))
    for start, end in (("2024-02-30", None), (None, "soon"), ("2024-01-01", "2024-02-01")):
        with pytest.raises(confluens.errors.InputError):
            simulated_days(3, start, end, today)
    with pytest.raises(confluens.errors.InputError, match="--days"):
        simulated_days(10**6, None, "0002-01-01", today)


def test_runs_shows_the_run_id_ingest_printed(tmp_path: Path) -> None:
    folder = make_fraud_project(tmp_path / "p", ingest=False)
    invoke("apply", folder=folder)
    code, text = invoke("ingest", "transactions", folder=folder)
    assert code == 0, text
    run_id = text.split("(run ", 1)[1].split(")", 1)[0]
    code, text = invoke("runs", folder=folder)
    assert code == 0
    assert run_id in text


def test_a_run_id_is_never_folded_in_a_narrow_terminal() -> None:
    import io

    import pyarrow as pa
    from rich.console import Console

    from confluens.interfaces.cli.render import arrow_table

    run_id = "20240101T000000Z-0123456789abcdef"
    rows = pa.table({"run": [run_id], "source": ["transactions"],
                     "input": ["/a/rather/long/path/to/some/data/files/*.csv"],
                     "status": ["succeeded"], "accepted": [12345], "quarantined": [0]})
    screen = io.StringIO()
    Console(file=screen, width=60).print(arrow_table(rows, whole=("run",)))
    assert any(run_id in line for line in screen.getvalue().splitlines())


@pytest.mark.parametrize("width", [60, 80, 100, 200])
def test_runs_never_hides_a_column_in_a_narrow_terminal(width: int) -> None:
    """At 80 columns rich squeezed source, input and status to nothing: a table too
    wide for the terminal is shown a row at a time instead."""
    import io

    import pyarrow as pa
    from rich.console import Console

    from confluens.interfaces.cli.render import arrow_rows

    rows = pa.table({"run": ["20261201T232125-6565aee3", "20261201T232129-5aa4b0ad"],
                     "source": ["transactions", "fraud_labels"],
                     "input": ["data/transactions/*.parquet", "data/late_batch.csv"],
                     "status": ["succeeded", "failed"], "in": [294153, 11],
                     "accepted": [294153, 3], "quarantined": [0, 7], "duplicates": [0, 1]})
    screen = io.StringIO()
    Console(file=screen, width=width).print(arrow_rows(rows, width, whole=("run",)))
    text = screen.getvalue()
    assert max(map(len, text.splitlines())) <= width
    for value in ("20261201T232125-6565aee3", "transactions", "fraud_labels", "succeeded",
                  "failed", "294153", "data/late_batch.csv"):
        assert value in text, (value, text)
    assert ("┃ run" in text) == (width >= 120), "a table only where it fits"


def test_runs_shows_an_interrupted_run_and_its_reason(tmp_path: Path) -> None:
    import socket

    from confluens.stores.metadata import IngestRun

    folder = make_fraud_project(tmp_path / "p")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a process that has ended: the run it "started" is dead
    with confluens.open(folder) as p:
        p.metadata.start_run(IngestRun("20240501T000000-dead0001", "transactions",
                                       "data/[abc].csv", 1, dt.datetime(2024, 5, 1,
                                                                         tzinfo=dt.UTC),
                                       pid=child.pid, host=socket.gethostname()))
    code, text = invoke("runs", folder=folder)
    assert code == 0, text
    assert re.search(r"20240501T000000-dead0001 .*transactions .*interrupted", text), text
    assert (f"run 20240501T000000-dead0001 interrupted: process {child.pid} "
            f"on {socket.gethostname()} ended before the run finished") in text
    assert "data/[abc].csv" in text, "user text is escaped, not read as markup"
    assert text.count("interrupted:") == 1, "only the dead run has a reason line"


def test_show_where_counts_the_matching_records(project: Path) -> None:
    with confluens.open(project) as p:
        stored = p.table("transactions", columns=["tx_amount"]).column(0).to_pylist()
    matching = sum(1 for a in stored if a > 30)
    code, text = invoke("show", "transactions", "--where", "tx_amount > 30", "-n", "2",
                        folder=project)
    assert code == 0, text
    assert f"transactions: 2 of {matching:,} matching records ({len(stored):,} stored)" in text
    code, text = invoke("show", "transactions", "-n", "2", folder=project)
    assert f"transactions: 2 of {len(stored):,} records" in text


def test_quarantine_list_gives_each_record_one_row_number(tmp_path: Path) -> None:
    folder = make_fraud_project(tmp_path / "p")
    assert invoke("ingest", "transactions", "data/late_batch.csv", folder=folder)[0] == 0
    code, text = invoke("quarantine", "list", "transactions", "--rule", "parse", folder=folder)
    assert code == 0, text
    # the line with an extra field is the 10th record (line 11 of the file, after the header)
    assert "│ data/late_batch.csv │ 10 │ parse: Expected Number of Columns" in text
    assert "line 11" not in text
    code, text = invoke("quarantine", "list", "transactions", "--rule", "not_null:customer_id",
                        folder=folder)
    assert "│ data/late_batch.csv │ 2 │ not_null:customer_id" in text


def test_quarantine_rows_are_places_in_the_file_with_malformed_lines_between(
        make_project) -> None:
    project = make_project('''
        from confluens import Range, Source
        tx = Source("tx", {"id": "int64", "ts": "timestamp", "amount": "float64",
                           "note": "string"}, "ts", id="id", checks=[Range("amount", min=0)])
    ''')
    project.apply()
    (project.root / "in.csv").write_text(
        "id,ts,amount,note\n"
        "1,2024-01-01,1.0,a\n"          # row 1
        "2,2024-01-01,1.0,b,surplus\n"  # row 2: malformed
        "3,2024-01-01,-1.0,c\n"         # row 3: range
        "\n"                            # a blank line is no record
        '4,2024-01-01,1.0,"two\nlines"\n'  # row 4: one record on two lines
        "5,2024-01-01\n"                # row 5: malformed
        "6,2024-01-01,-2.0,f\n"         # row 6: range
        "7,2024-01-01,1.0,g\n")         # row 7
    run = project.ingest("tx", "in.csv")
    assert (run.rows_in, run.accepted, run.quarantined) == (7, 3, 4)
    records = project.quarantine("tx").sort_by("position")
    assert records.column("position").to_pylist() == [1, 2, 4, 5]
    assert records.column("rule").to_pylist() == ["parse", "range:amount"] * 2
    assert records.column("record").to_pylist()[2] == "5,2024-01-01"
    project.close()
    code, text = invoke("quarantine", "list", "tx", folder=project.root)
    assert code == 0, text
    rows = re.findall(r"│ in\.csv │ (\d) │ (\S+)", text)
    assert sorted(rows) == [("2", "parse:"), ("3", "range:amount:"), ("5", "parse:"),
                            ("6", "range:amount:")], text


ROUTES = '''
    from confluens import Count, Entity, FeatureView, Source, Sum
    trips = Source("trips", {"id": "int64", "ts": "timestamp", "a": "string", "b": "string",
                             "km": "float64"}, "ts", id="id")
    route = FeatureView("route", Entity("route", ["a", "b"]), trips,
                        [Count(window="1d", name="n")])
    daily = FeatureView("daily", None, trips, [Sum("km", window="1d", name="km")])
'''


@pytest.fixture
def routes(make_project) -> Path:
    project = make_project(ROUTES)
    project.apply()
    (project.root / "trips.csv").write_text("id,ts,a,b,km\n"
                                            "1,2024-01-01 10:00,x,y,5\n"
                                            "2,2024-01-01 11:00,x,y,7\n"
                                            "3,2024-01-01 11:30,y,x,1\n")
    project.ingest("trips", "trips.csv")
    project.materialize()
    pq.write_table(pa.table({"from": ["x", "y"], "to": ["y", "x"], "ts": pa.array(
        [dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)] * 2, pa.timestamp("us", tz="UTC"))}),
        project.root / "spine.parquet")
    project.close()
    return project.root


def test_training_set_takes_key_mapped_requests_and_full_names(routes: Path) -> None:
    code, text = invoke("training-set", "--spine", "spine.parquet", "-f",
                        "route[from,to]:n, daily", "--full-names", "-o", "out.parquet",
                        folder=routes)
    assert code == 0, text
    out = pq.read_table(routes / "out.parquet").to_pydict()
    assert list(out) == ["from", "to", "ts", "route__from_to__n", "daily__km"]
    assert out["route__from_to__n"] == [2, 1]
    assert out["daily__km"] == [13.0, 13.0]
    code, text = invoke("training-set", "--spine", "spine.parquet", "-f", "route[from,to]",
                        "-f", "daily:km", "-o", "short.parquet", folder=routes)
    assert code == 0, text
    assert pq.read_table(routes / "short.parquet").column_names == [
        "from", "to", "ts", "from_to__n", "km"]
    code, text = invoke("training-set", "--spine", "spine.parquet", "-f", "route[from,to",
                        "-o", "bad.parquet", folder=routes)
    assert code == 2
    assert "maps keys as view[spine_column]:feature; got 'route[from,to'" in text, text


def test_features_get_on_a_view_without_an_entity_needs_no_key(routes: Path) -> None:
    code, text = invoke("features", "get", "daily", "--at", "2024-01-01T12:00:00+00:00",
                        folder=routes)
    assert code == 0, text
    assert re.search(r"│ km +│ 13\.0 │", text), text
    code, text = invoke("features", "get", "route", folder=routes)
    assert code == 2
    assert ("key for entity 'route': must give exactly its key columns ['a', 'b']; got "
            "'no key'. Fix: write a=VALUE,b=VALUE.") in text, text


def test_features_get_names_the_key_columns_a_wrong_key_lacks(routes: Path) -> None:
    code, text = invoke("features", "get", "route", "foo=1", folder=routes)
    assert code == 2
    assert ("key for entity 'route': must give exactly its key columns ['a', 'b']; got "
            "{'foo': '1'}. Fix: write a=VALUE,b=VALUE ('foo': not a key column).") in text, text


def test_the_command_table_matches_each_commands_help() -> None:
    ctx = click.Context(cli)
    for name, entry in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None, name
        assert command.help is not None, name
        assert " ".join(command.help.split()).startswith(entry.short_help.removesuffix("...")), \
            name


def test_help_and_version_import_no_engine() -> None:
    code = ("import sys; from confluens.interfaces.cli.main import main; sys.argv=['x', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = {'pyarrow', 'duckdb', 'pandas', 'sqlalchemy', 'sqlglot', 'numpy',"
            " 'confluens.core', 'confluens.project.project'} & set(sys.modules)\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_import_confluens_is_light_until_a_name_is_used() -> None:
    code = ("import sys, confluens\nassert 'pyarrow' not in sys.modules\n"
            "confluens.Source\nassert 'confluens.core' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_materialize_reports_each_finished_step_off_a_terminal(tmp_path: Path) -> None:
    folder = make_fraud_project(tmp_path / "p")
    code, text = invoke("materialize", "customer_spending", folder=folder)
    assert code == 0, text
    steps = re.findall(r"customer_spending: ([a-z ]+) done \(\d+\.\d s\)", text)
    assert steps == ["computing features at every event", "writing the feature table",
                     "writing the online state"]
    assert invoke("ingest", "transactions", "data/late_batch.csv", folder=folder)[0] == 0
    code, text = invoke("materialize", "customer_spending", folder=folder)
    assert re.findall(r"customer_spending: ([a-z ]+) done", text) == [
        "finding the entities new records change", "updating the feature table",
        "writing the online state"]
    assert "customer_spending: incremental" in text


def test_step_reporter_on_a_terminal_shows_view_and_stage() -> None:
    from rich.console import Console

    from confluens.interfaces.cli.steps import StepReporter

    shown: list[str] = []
    ticks = iter(range(100))
    reporter = StepReporter(Console(force_terminal=True), 2, update=shown.append,
                            clock=lambda: float(next(ticks)))
    reporter.stage("a", "computing")
    reporter.stage("a", "writing")
    reporter.view_done(None)
    reporter.stage("[b]", "computing")
    reporter.view_done(None)
    assert shown == ["materialize 0/2 views · a: computing", "materialize 0/2 views · a: writing",
                     "materialize 1/2 views", "materialize 1/2 views · [b]: computing",
                     "materialize 2/2 views"]


def test_quarantine_list_with_a_rule_and_nothing_quarantined(tmp_path: Path) -> None:
    folder = make_fraud_project(tmp_path / "p")
    code, text = invoke("quarantine", "list", "transactions", "--rule", "parse", folder=folder)
    assert code == 0, text
    assert "no quarantined records for transactions" in text
