"""What the CLI tests share: a small ingested fraud project, and running a command."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from confluens.interfaces.cli import cli

__all__ = ["invoke", "make_fraud_project"]


def invoke(*args: str, folder: Path | None = None) -> tuple[int, str]:
    """Run ``confluens ARGS`` (in ``folder``'s project); exit code and output, unwrapped."""
    extra = ["--project", str(folder)] if folder is not None else []
    result = CliRunner().invoke(cli, [*args, *extra])
    return result.exit_code, " ".join(result.output.split())


def make_fraud_project(folder: Path, *, ingest: bool = True) -> Path:
    """A fraud project with five days of 50 customers from 2018-04-01, applied and ingested."""
    assert invoke("init", str(folder))[0] == 0
    code, out = invoke("generate", "fraud", str(folder / "data"), "--customers", "50",
                       "--terminals", "100", "--days", "5", "--start", "2018-04-01")
    assert code == 0, out
    if ingest:
        for command in (("apply",), ("ingest", "transactions")):
            code, out = invoke(*command, folder=folder)
            assert code == 0, out
    return folder
