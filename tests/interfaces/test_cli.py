"""The command line, as a user drives it: help everywhere, clear errors, no tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from confluens.interfaces.cli import cli
from confluens.interfaces.cli.context import err, out


@pytest.fixture(autouse=True)
def wide_console() -> Iterator[None]:
    """As in a wide terminal, so that tables do not fold the words the tests look for."""
    widths = out.width, err.width
    out.width = err.width = 200
    yield
    out.width, err.width = widths


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", all_commands(cli), ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 3


@pytest.fixture
def project(tmp_path: Path) -> Path:
    runner = CliRunner()
    folder = tmp_path / "fraud"
    assert runner.invoke(cli, ["init", str(folder)]).exit_code == 0
    result = runner.invoke(cli, ["generate", "fraud", str(folder / "data"), "--customers", "50",
                                 "--terminals", "100", "--days", "5",
                                 "--start", "2018-04-01"])
    assert result.exit_code == 0, result.output
    return folder


def run(folder: Path, *args: str) -> tuple[int, str]:
    """Run a command in the project; the output with line wrapping undone."""
    result = CliRunner().invoke(cli, [*args, "--project", str(folder)])
    return result.exit_code, " ".join(result.output.split())


def test_init_apply_ingest_show_quarantine(project: Path) -> None:
    code, out = run(project, "apply")
    assert code == 0
    assert "+ source:transactions" in out
    assert "+ feature_view:customer_spending" in out
    assert "+ feature_view:terminal_risk" in out
    assert "+ model:fraud_model" in out
    assert "7 added" in out
    code, out = run(project, "apply")
    assert "no changes" in out

    code, out = run(project, "ingest", "transactions")
    assert code == 0, out
    assert "│ in = accepted + quarantined + duplicates │ ✓ │" in out

    code, out = run(project, "ingest", "transactions", "data/late_batch.csv")
    assert code == 0, out
    assert "quarantine rule parse" in out
    assert "confluens quarantine list transactions" in out

    code, out = run(project, "quarantine", "list", "transactions", "--rule", "range:tx_amount")
    assert code == 0, out
    assert "1 quarantined records for transactions; by rule: range:tx_amount 1" in out

    code, out = run(project, "show", "transactions", "--where", "tx_amount < 0", "-n", "5")
    assert code == 0, out
    assert "transactions: 0 of" in out

    code, out = run(project, "runs")
    assert code == 0
    assert "late_batch.csv" in out


def test_changed_definitions_show_as_changed(project: Path) -> None:
    run(project, "apply")
    defs = project / "definitions.py"
    defs.write_text(defs.read_text().replace("min=0)", "min=0.01)"))
    code, out = run(project, "apply", "--dry-run")
    assert code == 0
    assert "~ source:transactions (checks)" in out
    assert "would change: 0 added, 1 changed" in out
    code, out = run(project, "ingest", "transactions")
    assert code == 2
    assert "run `confluens apply`" in out


def test_a_changed_model_shows_in_the_apply_diff(project: Path) -> None:
    run(project, "apply")
    defs = project / "definitions.py"
    defs.write_text(defs.read_text().replace("n_estimators=300", "n_estimators=200"))
    code, out = run(project, "apply", "--dry-run")
    assert code == 0, out
    assert "~ model:fraud_model (estimator)" in out
    assert "would change: 0 added, 1 changed, 0 removed" in out
    code, out = run(project, "apply")
    assert code == 0
    assert "applied: 0 added, 1 changed" in out
    defs.write_text(defs.read_text().replace("fraud_model = Model(", "unused = dict(")
                    .replace('    "fraud_model",\n', ""))
    code, out = run(project, "apply")
    assert code == 0, out
    assert "- model:fraud_model" in out


@pytest.mark.parametrize(("args", "message"), [
    (("ingest", "nope"), "no source has this name; got 'nope'"),
    (("show", "transactions", "--where", "1=1; DROP TABLE x"), "must be one expression"),
    (("show", "transactions", "--where", "amount >"), "does not parse"),
    (("show", "transactions", "--columns", "nope"), "has no such column"),
    (("ingest", "transactions", "missing/*.csv"), "no file matches"),
    (("ingest", "transactions", "postgresql://x@127.0.0.1/db"), "needs a query"),
])
def test_input_mistakes_get_a_message_and_no_traceback(project: Path, args: tuple[str, ...],
                                                       message: str) -> None:
    run(project, "apply")
    code, out = run(project, *args)
    assert code == 2
    assert message in out
    assert "Fix:" in out
    assert "Traceback" not in out


def test_outside_a_project(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["apply", "--project", str(tmp_path)])
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "no confluens.toml" in out
    assert "confluens init" in out


def test_a_bug_in_user_code_shows_the_users_traceback(project: Path) -> None:
    defs = project / "definitions.py"
    defs.write_text(defs.read_text() + "\nraise RuntimeError('my bug')\n")
    code, out = run(project, "apply")
    assert code == 1
    assert "Traceback" in out
    assert "definitions.py" in out
    assert "my bug" in out
    assert "boundary.py" not in out, "only the user's own frames are shown"


def test_init_refuses_an_existing_project(project: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(project)])
    assert result.exit_code == 2
    assert "--force" in result.output


def test_custom_checks_stay_applied_across_processes(tmp_path: Path) -> None:
    """The spec of a Custom check must not depend on the process (e.g. hash seeds)."""
    import os
    import subprocess
    import sys

    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "confluens.toml").write_text("")
    (folder / "definitions.py").write_text(
        "from confluens import Source, Custom\n"
        "def positive(df):\n    return (df['v'] > 0).to_numpy()\n"
        "s = Source('s', {'ts': 'timestamp', 'v': 'float64'}, 'ts',\n"
        "           checks=[Custom('v', fn=positive, name='positive')])\n")
    command = [sys.executable, "-m", "confluens.interfaces.cli.main", "apply", "-p", str(folder)]
    first = subprocess.run(command, capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "1"})
    assert "+ source:s" in first.stdout
    second = subprocess.run(command, capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONHASHSEED": "2"})
    assert "no changes" in second.stdout


def test_training_set_command(project: Path, tmp_path: Path) -> None:
    import pandas as pd
    import pyarrow.parquet as pq

    run(project, "apply")
    run(project, "ingest", "transactions")
    stored = pq.read_table(next((project / ".confluens" / "offline" / "transactions")
                                .rglob("*.parquet"))).to_pandas()
    spine = stored[["customer_id", "tx_datetime"]].head(3).assign(label=[0, 1, 0])
    spine.to_parquet(tmp_path / "spine.parquet")
    code, out = run(project, "training-set", "--spine", str(tmp_path / "spine.parquet"),
                    "-f", "customer_spending:customer_nb_tx_7d",
                    "-f", "customer_spending:customer_avg_amount_7d",
                    "--out", str(tmp_path / "train.parquet"))
    assert code == 0, out
    assert "wrote 3 rows × 5 columns" in out
    train = pd.read_parquet(tmp_path / "train.parquet")
    assert list(train.columns) == ["customer_id", "tx_datetime", "label", "customer_nb_tx_7d",
                                   "customer_avg_amount_7d"]
    assert (train["customer_nb_tx_7d"] >= 1).all()
    code, out = run(project, "training-set", "--spine", str(tmp_path / "spine.parquet"),
                    "-f", "customer_spending:nope", "--out", str(tmp_path / "x.parquet"))
    assert code == 2
    assert "has no such feature; got 'nope'" in out


def test_materialize_and_features_get(project: Path) -> None:
    run(project, "apply")
    run(project, "ingest", "transactions")
    run(project, "ingest", "fraud_labels")
    code, out = run(project, "materialize")
    assert code == 0, out
    assert "customer_spending:" in out
    assert "online state for" in out
    code, out = run(project, "materialize", "customer_spending")
    assert "customer_spending: up to date" in out
    code, out = run(project, "features", "get", "customer_spending", "1", "2",
                    "--at", "2018-04-06T00:00:00+00:00")
    assert code == 0, out
    assert "customer_nb_tx_30d" in out
    code, out = run(project, "features", "get", "customer_spending", "1", "--at", "yesterday")
    assert code == 2
    assert "--at: must be an ISO timestamp" in out
    code, out = run(project, "materialize", "customer_spending",
                    "--start", "2018-04-03T00:00:00+00:00", "--end", "2018-04-04T00:00:00+00:00")
    assert code == 0, out
    assert "customer_spending: rebuilt" in out
    code, out = run(project, "materialize", "--start", "2018-04-03")
    assert code == 2
    assert "--start: must carry a time zone" in out
    assert "Traceback" not in out
    code, out = run(project, "materialize", "--start", "2018-04-05T00:00:00+00:00",
                    "--end", "2018-04-04T00:00:00+00:00")
    assert code == 2
    assert "--end: must be after --start" in out
