"""The definitions a template ships type-check under mypy --strict as users write them
(``window="7d"``, ``delay="7d"``, ``on_fail="warn"``, a list of allowed values).

``make lint`` checks them too (mypy's ``files`` holds all of ``src/confluens``); this
test checks them as a user's project does, outside the package, against the installed
annotations, next to a mistyped definition that must fail, so the check can fail.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import confluens.project.templates as templates

TEMPLATE_DEFINITIONS = sorted(Path(templates.__file__).parent.glob("*/definitions.py"))
CACHE = Path(__file__).resolve().parents[2] / ".mypy_cache" / "templates"


def test_every_template_has_definitions() -> None:
    assert [p.parent.name for p in TEMPLATE_DEFINITIONS] == ["fraud"]


@pytest.mark.slow
def test_template_definitions_type_check(tmp_path: Path) -> None:
    files = []
    for definitions in TEMPLATE_DEFINITIONS:
        copy = tmp_path / f"{definitions.parent.name}_definitions.py"
        copy.write_text(definitions.read_text())
        files.append(copy)
    mistyped = tmp_path / "mistyped.py"
    mistyped.write_text("from confluens import Count\n\nfeature = Count(window=7)\n")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(CACHE),
         *map(str, files), str(mistyped)],
        cwd=tmp_path, capture_output=True, text=True, timeout=900)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert [e for e in errors if not e.startswith("mistyped.py")] == [], done.stdout
    assert len(errors) == 1, done.stdout
    assert 'Argument "window" to "Count" has incompatible type "int"' in errors[0]
