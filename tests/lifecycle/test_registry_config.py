"""confluens.toml's [models] section: where the registry tracks, checked when read."""

from __future__ import annotations

from pathlib import Path

import pytest

from confluens.errors import ConfigError
from confluens.project.config import ProjectConfig
from confluens.project.model_registry import registry_settings
from tests.interfaces.cli_helpers import invoke


def test_the_default_is_a_sqlite_store_and_artifacts_under_the_project():
    config = ProjectConfig.parse({"project": {"name": "fraud"}}, root=Path("/p"))
    settings = registry_settings(config)
    assert settings.tracking_uri == "sqlite:////p/.confluens/mlflow.db"
    assert settings.registry_uri == settings.tracking_uri
    assert settings.artifact_root == Path("/p/.confluens/mlartifacts")
    assert settings.experiment == "fraud"
    assert not settings.is_server


def test_a_server_a_relative_sqlite_path_and_an_experiment():
    config = ProjectConfig.parse({"models": {
        "tracking_uri": "http://127.0.0.1:5000", "registry_uri": "sqlite:///reg/r.db",
        "experiment": "fraud-v2"}}, root=Path("/p"))
    settings = registry_settings(config)
    assert (settings.tracking_uri, settings.registry_uri, settings.experiment) == (
        "http://127.0.0.1:5000", "sqlite:////p/reg/r.db", "fraud-v2")
    assert settings.is_server


@pytest.mark.parametrize(("models", "message"), [
    ({"tracking_uri": "/tmp/mlruns"}, "[models] tracking_uri: must be an MLflow tracking "
                                      "server (http:// or https://) or a database URL"),
    ({"registry_uri": "ftp://host/x"}, "[models] registry_uri: must be an MLflow"),
    ({"tracking_uri": 5000}, "[models] tracking_uri: must be a string"),
    ({"experiment": ""}, "[models] experiment: must not be empty"),
    ({"artifacts": "x"}, "[models]: settings must be one of experiment, registry_uri, "
                         "tracking_uri; got 'artifacts'"),
])
def test_bad_settings_are_refused_with_the_fix(models, message):
    with pytest.raises(ConfigError) as caught:
        ProjectConfig.parse({"models": models}, root=Path("/p"))
    assert message in str(caught.value)
    assert "Fix:" in str(caught.value)


def test_the_cli_reports_a_bad_setting_without_a_traceback(tmp_path):
    (tmp_path / "confluens.toml").write_text('[models]\ntracking_uri = "mlruns"\n')
    (tmp_path / "definitions.py").write_text("")
    code, out = invoke("models", "list", folder=tmp_path)
    assert code == 2, out
    assert "[models] tracking_uri: must be an MLflow tracking server" in out
    assert "Traceback" not in out
