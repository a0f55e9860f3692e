"""MLflow is imported only when the registry is used, and its absence names the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


def test_importing_the_registry_and_opening_a_project_do_not_import_mlflow(tmp_path):
    done = _run(f"""
        import sys
        import confluens
        from confluens.lifecycle.registry import ModelRegistry
        from confluens.project.model_registry import model_registry
        confluens.init({str(tmp_path / "p")!r}, template="fraud")
        with confluens.open({str(tmp_path / "p")!r}) as project:
            project.registry  # built, not used
        print("mlflow" in sys.modules)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_without_mlflow_the_registry_says_which_extra_to_install(tmp_path):
    done = _run(f"""
        import sys
        sys.modules["mlflow"] = None  # as if the models extra were not installed
        import confluens
        from confluens.errors import MissingExtraError
        confluens.init({str(tmp_path / "p")!r}, template="fraud")
        with confluens.open({str(tmp_path / "p")!r}) as project:
            try:
                project.registry.models()
            except MissingExtraError as exc:
                print(exc)
    """)
    assert done.returncode == 0, done.stderr
    assert "the model registry: needs the optional module 'mlflow'" in done.stdout
    assert "pip install 'confluens[models]'" in done.stdout
