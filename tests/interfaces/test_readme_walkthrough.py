"""The README's "A first project", followed word for word on a fresh folder.

The ```sh block under that heading is run by bash, as a user would paste it, in an
empty folder whose `.venv` is this test's own environment. Every command must exit
0 and print what the README says it does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
MARK = "@@command"

# what each command prints when it works (by its words, in order of the block)
EXPECTED = [
    ("source .venv/bin/activate", None),
    ("confluens init", "created project fraud from template 'fraud'"),
    ("cd fraud", None),
    ("confluens generate fraud", "wrote"),
    ("confluens apply", "applied: 7 added"),
    ("confluens ingest transactions data/late_batch.csv", "quarantine rule parse"),
    ("confluens ingest transactions", "accepted"),
    ("confluens quarantine list", "quarantined records for transactions"),
    ("confluens show", "matching records"),
    ("confluens runs", "late_batch.csv"),
    ("confluens ingest fraud_labels", "accepted"),
    ("confluens spine", "rows of transactions"),
    ("confluens training-set", "columns to"),
    ("confluens materialize customer_spending", "customer_spending: rebuilt"),
    ("confluens materialize", "online state for"),
    ("confluens features get", "customer_nb_tx_7d"),
]


def first_project_commands() -> list[str]:
    """The block's commands: continuation lines joined, comment-only lines dropped."""
    text = README.read_text()
    section = text.split("## A first project", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README's 'A first project' has a ```sh block"
    joined = block.group(1).replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def expectation(command: str) -> str | None:
    for start, expected in EXPECTED:
        if command.startswith(start):
            return expected
    pytest.fail(f"the README runs a command this test has no expectation for: {command}")


@pytest.mark.slow
def test_a_first_project_works_as_written(tmp_path: Path) -> None:
    commands = first_project_commands()
    (tmp_path / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    lines = ["set -euo pipefail"]
    for i, command in enumerate(commands):
        lines += [f"echo '{MARK} {i}'", command]
    env = {k: v for k, v in os.environ.items()
           if k not in ("CONFLUENS_PROJECT", "CONFLUENS_METADATA_URL", "VIRTUAL_ENV")}
    env["COLUMNS"] = "200"
    done = subprocess.run(["bash", "-c", "\n".join(lines)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    outputs = done.stdout.split(f"{MARK} ")[1:]
    ran = len(outputs)
    assert done.returncode == 0, (f"stopped at: {commands[ran - 1] if ran else '?'}\n"
                                  f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    assert ran == len(commands)
    assert "Traceback" not in done.stderr
    for command, output in zip(commands, outputs, strict=True):
        expected = expectation(command)
        if expected is not None:
            assert expected in " ".join(output.split()), f"{command}\n{output}"


def test_the_models_section_names_the_templates_model(tmp_path: Path) -> None:
    """The README's registry commands follow `confluens train fraud_model`: each names
    the fraud template's model (they named a `fraud_gbm` no template defines)."""
    import confluens

    section = README.read_text().split("## Models: registry and aliases", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README's models section has a ```sh block"
    named = set(re.findall(r"confluens models \w+ (\w+)", block.group(1)))
    named |= set(re.findall(r'registry\.load\("(\w+)"', section.split("\n## ", 1)[0]))
    confluens.init(tmp_path / "fraud", template="fraud")
    with confluens.open(tmp_path / "fraud") as project:
        models = {m.name for m in project.definitions.models}
    assert named, "the section names a model"
    assert named <= models, f"{sorted(named - models)} are not the template's {sorted(models)}"
