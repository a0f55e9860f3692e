"""`confluens models ...` on a project whose registry holds real models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import confluens
from tests.interfaces.cli_helpers import invoke
from tests.lifecycle.registry_helpers import trained_model


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models") / "proj"
    confluens.init(root, template="fraud")
    with confluens.open(root) as project:
        for seed in range(2):
            project.registry.record(trained_model("lightgbm", name="fraud", seed=seed))
    return root


def test_list_and_show(project_dir):
    code, out = invoke("models", "list", folder=project_dir)
    assert code == 0, out
    assert "fraud" in out
    assert "MLflow UI: mlflow ui --backend-store-uri sqlite:///" in out
    assert str(project_dir / ".confluens" / "mlflow.db") in out
    code, out = invoke("models", "show", "fraud", folder=project_dir)
    assert code == 0, out
    for shown in ("auc_roc", "offline@v3", "offline@v4", "lightgbm", "defs0000"):
        assert shown in out


def test_promote_rollback_history(project_dir):
    code, out = invoke("models", "promote", "fraud", "1", "--reason", "first",
                       folder=project_dir)
    assert code == 0, out
    assert "promote: fraud@champion unset → version 1" in out
    code, out = invoke("models", "promote", "fraud", "2", "--reason", "AP up", "--by", "ana",
                       folder=project_dir)
    assert code == 0, out
    assert "version 1 → version 2 (by ana: AP up)" in out
    code, out = invoke("models", "promote", "fraud", "2", "--reason", "again",
                       folder=project_dir)
    assert code == 0, out
    assert "already version 2; nothing changed" in out
    code, out = invoke("models", "rollback", "fraud", "-r", "alerts doubled",
                       folder=project_dir)
    assert code == 0, out
    assert "rollback: fraud@champion version 2 → version 1" in out
    code, out = invoke("models", "history", "fraud", folder=project_dir)
    assert code == 0, out
    for shown in ("promote", "rollback", "alerts doubled", "ana", "@champion"):
        assert shown in out
    code, out = invoke("models", "show", "fraud", folder=project_dir)
    assert code == 0, out
    assert "@champion" in out


@pytest.mark.parametrize(("args", "message"), [
    (("show", "nope"), "model 'nope': is not in the registry; got 'nope'. Fix: registered "
                       "models: fraud"),
    (("promote", "fraud", "9", "--reason", "x"), "has no such version; got 9"),
    (("promote", "fraud", "1", "--alias", "prod", "--reason", "x"),
     "model alias: must be one of @champion, @challenger; got 'prod'"),
    (("rollback", "fraud", "--alias", "challenger", "--reason", "x"),
     "fraud@challenger: has no earlier version in its history"),
    (("promote", "fraud", "1", "--reason", ""), "every promotion and rollback must say why"),
    (("history", "nope"), "model 'nope': is not in the registry; got 'nope'. Fix: registered "
                          "models: fraud"),
])
def test_input_mistakes_exit_2_without_a_traceback(project_dir, args, message):
    code, out = invoke("models", *args, folder=project_dir)
    assert code == 2, out
    assert message in out
    assert "Traceback" not in out


def test_reason_is_required_and_help_is_everywhere(project_dir):
    code, out = invoke("models", "promote", "fraud", "1", folder=project_dir)
    assert code == 2, out
    assert "Missing option '--reason'" in out
    code, out = invoke("models", "--help")
    assert code == 0, out
    for sub in ("list", "show", "promote", "rollback", "history"):
        assert sub in out
        code, sub_help = invoke("models", sub, "--help")
        assert code == 0, sub_help
        assert "--project" in sub_help


_PROBE = """
import sys
from confluens.interfaces.cli.main import cli
try:
    cli({args!r}, prog_name="confluens")
except SystemExit as exc:
    assert exc.code == 0, exc.code
print("mlflow" in sys.modules, file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["runs"], ["models", "--help"],
                                  ["models", "promote", "--help"]])
def test_commands_that_do_not_touch_models_do_not_import_mlflow(project_dir, args):
    done = subprocess.run([sys.executable, "-c", _PROBE.format(args=args)],
                          cwd=project_dir, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False"


def test_models_list_does_import_mlflow(project_dir):
    """The probe above can tell: a command that reads the registry imports it."""
    done = subprocess.run([sys.executable, "-c", _PROBE.format(args=["models", "list"])],
                          cwd=project_dir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "True"


@pytest.mark.parametrize(("code_version", "shown"), [
    ("confluens 0.1.0", "code confluens 0.1.0"),
    ("git:" + "0123456789abcdef" * 2 + "01234567-dirty", "code git:0123456789ab-dirty"),
])
def test_show_prints_the_code_version_whole_or_its_commit_cut(
        tmp_path: Path, code_version: str, shown: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`code_version` is `confluens <version>` outside git: cutting it to 12 characters
    printed `confluens 0.`; a commit is cut, its `-dirty` kept."""
    import dataclasses

    from confluens.interfaces.cli.context import out

    monkeypatch.setattr(out, "width", 200)  # the lineage on one line, not folded

    root = tmp_path / "proj"
    confluens.init(root, template="fraud")
    trained = trained_model("lightgbm", name="fraud")
    lineage = dataclasses.replace(trained.lineage, code_version=code_version)
    with confluens.open(root) as project:
        project.registry.record(dataclasses.replace(trained, lineage=lineage))
    code, out = invoke("models", "show", "fraud", folder=root)
    assert code == 0, out
    assert shown in out
