"""`confluens features get`: key mistakes name what was received, unknown keys get a
note, and a read earlier than the online state can answer is refused without a
traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from confluens.interfaces.cli import cli
from confluens.interfaces.cli.context import err, out


@pytest.fixture(autouse=True)
def wide_console() -> Iterator[None]:
    widths = out.width, err.width
    out.width = err.width = 200
    yield
    out.width, err.width = widths


def run(folder: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args, "--project", str(folder)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture(scope="module")
def customer(project: Path) -> str:
    """A customer with transactions."""
    import confluens

    with confluens.open(project) as opened:
        return str(opened.table("transactions").column("customer_id")[0])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "fraud"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(folder)]).exit_code == 0
    assert runner.invoke(cli, ["generate", "fraud", str(folder / "data"), "--customers", "20",
                               "--terminals", "40", "--days", "45",
                               "--start", "2018-04-01"]).exit_code == 0
    for args in (["apply"], ["ingest", "transactions"], ["materialize", "customer_spending"]):
        code, text = run(folder, *args)
        assert code == 0, text
    return folder


def test_a_key_column_that_is_not_the_entitys_is_named_as_received(project: Path) -> None:
    code, text = run(project, "features", "get", "customer_spending", "foo=1")
    assert code == 2
    assert ("error: key for entity 'customer': must give exactly its key columns "
            "['customer_id']; got {'foo': '1'}. Fix: write customer_id=VALUE ('foo': not a key "
            "column).") in text
    assert "Traceback" not in text


def test_an_unknown_key_gets_a_note(project: Path, customer: str) -> None:
    code, text = run(project, "features", "get", "customer_spending", customer, "no-such-key",
                     "--at", "2018-07-01T00:00:00+00:00")
    assert code == 0, text
    assert "note: no online state for no-such-key (" in text
    assert "values are those of an empty window" in text
    code, text = run(project, "features", "get", "customer_spending", customer,
                     "--at", "2018-07-01T00:00:00+00:00")
    assert "note:" not in text


def test_a_read_in_the_past_is_refused_with_the_offline_fix(project: Path,
                                                            customer: str) -> None:
    code, text = run(project, "features", "get", "customer_spending", customer,
                     "--at", "2018-04-02T00:00:00+00:00")
    assert code == 2, text
    assert (f"error: feature view 'customer_spending', entity [\"{customer}\"]: the online "
            "state answers reads from") in text
    assert "got '2018-04-02T00:00:00+00:00'" in text
    assert "training-set" in text
