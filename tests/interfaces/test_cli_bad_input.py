"""Bad input on the command line: one clear message (thing, rule, value, fix), exit
code 2, never a traceback; user text is printed as written, square brackets and all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import confluens
from confluens.interfaces.cli import cli
from confluens.interfaces.cli.context import err, out
from tests.interfaces.cli_helpers import invoke, make_fraud_project


@pytest.fixture(autouse=True)
def wide_console() -> Iterator[None]:
    widths = out.width, err.width
    out.width = err.width = 200
    yield
    out.width, err.width = widths


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fraud_project(tmp_path_factory.mktemp("cli") / "fraud")


@pytest.fixture(scope="module")
def naive_spine(project: Path) -> Path:
    path = project / "naive.parquet"
    pq.write_table(pa.table({"customer_id": ["1", "2"],
                             "t": pa.array([1522922400, 1522926000], pa.timestamp("s"))}), path)
    return path


def refused(code: int, text: str, *fragments: str) -> None:
    assert code == 2, text
    assert "Traceback" not in text
    assert "Fix:" in text
    for fragment in fragments:
        assert fragment in text, text


def test_an_unknown_time_zone_is_named(project: Path, naive_spine: Path) -> None:
    code, text = invoke("training-set", "--spine", str(naive_spine), "-f", "customer_spending",
                        "--out", "t.parquet", "--timezone", "Mars/Olympus", folder=project)
    refused(code, text, "--timezone: must be an IANA time zone name; got 'Mars/Olympus'")


def test_a_known_time_zone_reads_a_zone_less_spine(project: Path, naive_spine: Path) -> None:
    code, text = invoke("training-set", "--spine", str(naive_spine), "-f", "customer_spending",
                        "--out", "t.parquet", "--timezone", "Europe/Paris", folder=project)
    assert code == 0, text
    written = pq.read_table(project / "t.parquet")
    assert written.column("t").equals(pq.read_table(naive_spine).column("t")), "carried as is"
    assert written.column("customer_nb_tx_7d").null_count == 0


def test_out_into_a_missing_folder_creates_it(project: Path, naive_spine: Path) -> None:
    code, text = invoke("training-set", "--spine", str(naive_spine), "-f", "customer_spending",
                        "--timezone", "UTC", "--out", "new/deeper/train.parquet",
                        folder=project)
    assert code == 0, text
    assert pq.read_table(project / "new" / "deeper" / "train.parquet").num_rows == 2


def test_out_as_csv_writes_csv(project: Path, naive_spine: Path) -> None:
    code, text = invoke("training-set", "--spine", str(naive_spine), "-f", "customer_spending",
                        "--timezone", "UTC", "--out", "train.csv", folder=project)
    assert code == 0, text
    lines = (project / "train.csv").read_text().splitlines()
    assert lines[0].startswith('"customer_id","t",')
    assert len(lines) == 3


def test_a_spine_that_is_not_parquet_is_refused(project: Path) -> None:
    (project / "spine.txt").write_text("customer_id,t\n1,2018-04-05\n")
    code, text = invoke("training-set", "--spine", "spine.txt", "-f", "customer_spending",
                        "--out", "t.parquet", folder=project)
    refused(code, text, "spine: must be a Parquet file, or CSV with a .csv extension")


def test_a_csv_spine_is_read(project: Path) -> None:
    (project / "spine.csv").write_text("customer_id,t,label\n1,2018-04-05T12:00:00Z,0\n"
                                       "2,2018-04-05T13:00:00Z,1\n")
    code, text = invoke("training-set", "--spine", "spine.csv", "-f", "customer_spending",
                        "--out", "from_csv.parquet", folder=project)
    assert code == 0, text
    table = pq.read_table(project / "from_csv.parquet")
    assert table.column("label").to_pylist() == [0, 1]
    assert "customer_nb_tx_7d" in table.column_names


def test_a_broken_csv_spine_is_refused(project: Path) -> None:
    (project / "broken.csv").write_bytes(b"\xff\xfe\x00garbage\x00\n\x01\x02")
    code, text = invoke("training-set", "--spine", "broken.csv", "-f", "customer_spending",
                        "--out", "t.parquet", folder=project)
    assert code == 2, text
    assert "Traceback" not in text


@pytest.mark.parametrize("depth", [31, 3000])
def test_a_deeply_nested_where_is_refused(project: Path, depth: int) -> None:
    where = "tx_amount > " + "(" * depth + "1" + ")" * depth
    code, text = invoke("show", "transactions", "--where", where, folder=project)
    refused(code, text, "--where: nests too deeply (keep it within 30 levels)")


def test_a_long_flat_where_works(project: Path) -> None:
    where = " OR ".join(f"tx_amount = {i}" for i in range(2000))
    code, text = invoke("show", "transactions", "--where", where, "-n", "1", folder=project)
    assert code == 0, text


def test_runs_of_an_unknown_source_is_refused(project: Path) -> None:
    code, text = invoke("runs", "transactons", folder=project)
    refused(code, text, "source: no source has this name; got 'transactons'", "transactions")
    code, text = invoke("runs", "fraud_labels", folder=project)  # known, never ingested
    assert code == 0, text
    assert "no ingest runs yet" in text


def test_an_internal_error_is_short_and_points_to_debug(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from confluens.project.project import Project

    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("a bug of ours")

    monkeypatch.setattr(Project, "runs", broken)
    code, text = invoke("runs", folder=project)
    assert code == 3
    assert "internal error (ZeroDivisionError: a bug of ours)" in text
    assert "confluens --debug" in text
    assert "Traceback" not in text
    debug = ["--debug", "runs", "--project", str(project)]
    with pytest.raises(ZeroDivisionError, match="a bug of ours"):
        CliRunner().invoke(cli, debug, catch_exceptions=False)


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_the_program_shows_an_internal_errors_traceback_under_debug(
        project: Path, how: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """As `confluens` runs (main), not only through click: --debug's re-raised error
    reaches main() after the command's context is gone."""
    from confluens.interfaces.cli.main import main
    from confluens.project.project import Project

    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("a bug of ours")

    monkeypatch.setattr(Project, "runs", broken)
    flags = ["--debug"] if how == "flag" else []
    if how == "environment":
        monkeypatch.setenv("CONFLUENS_DEBUG", "1")
    monkeypatch.setattr("sys.argv", ["confluens", *flags, "runs", "--project", str(project)])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 3
    shown = capsys.readouterr().err
    assert "Traceback (most recent call last)" in shown
    assert "ZeroDivisionError: a bug of ours" in shown
    assert "internal error" not in shown


# -- confluens.toml ---------------------------------------------------------------------

@pytest.fixture
def config_project(tmp_path: Path) -> Path:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "definitions.py").write_text("")
    return folder


@pytest.mark.parametrize(("toml", "fragments"), [
    ("[stroage]\nroot = 'x'\n",
     ["confluens.toml: sections must be one of [project], [storage], [online], [models], "
      "[streams], [serve]; got 'stroage'"]),
    ("[project]\nname = 42\n", ["confluens.toml [project] name: must be a string; got 42"]),
    ("[storage]\nroot = 5\n", ["confluens.toml [storage] root: must be a string; got 5"]),
    ("[storage]\nroot = ''\n", ["[storage] root: must not be empty"]),
    ("project = 3\n", ["confluens.toml project: must be a section"]),
    ("[storage]\nmetadata_url = 'mysql://me@db/x'\n",
     ["metadata store runs on SQLite or PostgreSQL; mysql is not supported"]),
    ("[online]\nstore = '[bold red]X[/]'\n", ["got '[bold red]X[/]'"]),
])
def test_config_mistakes_are_named(config_project: Path, toml: str,
                                   fragments: list[str]) -> None:
    (config_project / "confluens.toml").write_text(toml)
    code, text = invoke("apply", folder=config_project)
    refused(code, text, *fragments)


def test_a_mysql_url_in_the_environment_is_named(config_project: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (config_project / "confluens.toml").write_text("")
    monkeypatch.setenv("CONFLUENS_METADATA_URL", "mysql+pymysql://me@db/x")
    code, text = invoke("apply", folder=config_project)
    refused(code, text, "CONFLUENS_METADATA_URL: the metadata store runs on SQLite or "
            "PostgreSQL; mysql is not supported")
    assert "pip install 'confluens'" not in text


def test_a_config_that_is_not_utf8_is_named(config_project: Path) -> None:
    (config_project / "confluens.toml").write_bytes(b"[project]\nname = 'caf\xe9'\n")
    code, text = invoke("apply", folder=config_project)
    refused(code, text, "must be UTF-8 text", "byte 0xe9 at offset 21", "save the file as UTF-8")


def test_relative_config_paths_start_at_the_project(config_project: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    (config_project / "confluens.toml").write_text(
        "[storage]\nroot = 'store'\nmetadata_url = 'sqlite:///meta/m.db'\n")
    (config_project / "meta").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, text = invoke("apply", folder=config_project)
    assert code == 0, text
    assert (config_project / "meta" / "m.db").exists()
    assert not list(elsewhere.iterdir())


# -- rich markup in user text -----------------------------------------------------------

def test_square_brackets_in_user_text_print_as_written(project: Path) -> None:
    code, text = invoke("ingest", "transactions", "data/[abc]*.csv", folder=project)
    refused(code, text, "got 'data/[abc]*.csv'")
    code, text = invoke("show", "[bold red]X[/]", folder=project)
    refused(code, text, "got '[bold red]X[/]'")
    code, text = invoke("quarantine", "list", "[online]", folder=project)
    refused(code, text, "got '[online]'")


@pytest.mark.parametrize(("raised", "code", "message"), [
    (ValueError("boom"), 3, "internal error (ValueError: boom)"),
    (PermissionError(13, "Permission denied", "/x/y"), 2, "/x/y: the system refused"),
    (KeyboardInterrupt(), 130, "interrupted"),
    (confluens.errors.InputError("--x", "must be [b]y[/b]", got="[red]z", fix="f"), 2,
     "--x: must be [b]y[/b]; got '[red]z'. Fix: f."),
])
def test_the_guard_turns_any_exception_into_a_message(
        raised: BaseException, code: int, message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    from confluens.interfaces.cli.context import guard

    with pytest.raises(SystemExit) as exited, guard():
        raise raised
    assert exited.value.code == code
    printed = " ".join(capsys.readouterr().err.split())
    assert message in printed
    assert "Traceback" not in printed


def test_main_guards_what_escapes_before_a_command(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import importlib

    main_module = importlib.import_module("confluens.interfaces.cli.main")

    def parse_fails(**_: object) -> None:
        raise ValueError("embedded null byte")

    monkeypatch.setattr(main_module, "cli", parse_fails)
    with pytest.raises(SystemExit) as exited:
        main_module.main()
    assert exited.value.code == 3
    assert "internal error (ValueError: embedded null byte)" in capsys.readouterr().err


def test_a_csv_spine_with_a_ragged_line_names_the_line(tmp_path: Path) -> None:
    from confluens.errors import InputError
    from confluens.project.training import as_arrow_spine

    path = tmp_path / "spine.csv"
    path.write_text("k,ts\n1,2018-04-01T00:00:00Z\n2,2018-04-02T00:00:00Z,extra\n"
                    "3,2018-04-03T00:00:00Z\n")
    with pytest.raises(InputError, match="line 3 has 3 fields where the header names 2"):
        as_arrow_spine(path)
    path.write_text("k,ts\n1,2018-04-01T00:00:00Z\n3,2018-04-03T00:00:00Z\n")
    spine = as_arrow_spine(path)
    assert spine.num_rows == 2
    assert spine.column_names == ["k", "ts"]


def test_an_output_name_must_announce_its_format(tmp_path: Path) -> None:
    from confluens.errors import InputError
    from confluens.project.output import write_table

    table = pa.table({"k": [1]})
    with pytest.raises(InputError, match=r"must end in \.parquet or \.csv"):
        write_table(table, tmp_path / "s.txt")
    assert not (tmp_path / "s.txt").exists()
    assert pq.read_table(write_table(table, tmp_path / "s.parquet")).num_rows == 1
