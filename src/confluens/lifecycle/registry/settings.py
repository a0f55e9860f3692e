"""Where a registry keeps its runs, models and artifacts.

>>> s = RegistrySettings("sqlite:////p/.confluens/mlflow.db", experiment="fraud",
...                      artifact_root=Path("/p/.confluens/mlartifacts"))
>>> s.registry_uri
'sqlite:////p/.confluens/mlflow.db'
>>> s.ui_command()
'mlflow ui --backend-store-uri sqlite:////p/.confluens/mlflow.db'
>>> RegistrySettings("http://127.0.0.1:5000", experiment="fraud").ui_command()
'open http://127.0.0.1:5000 (the tracking server serves the MLflow UI)'
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RegistrySettings"]


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """MLflow's tracking and registry URIs, the experiment, and the artifact root.

    ``artifact_root`` applies to a local tracking store (a database URL): the
    experiment's artifacts go there (under the project by default). A tracking
    server keeps artifacts where it is configured to.
    """

    tracking_uri: str
    registry_uri: str = ""  # default: tracking_uri
    experiment: str = "confluens"
    artifact_root: Path | None = None

    def __post_init__(self) -> None:
        if not self.registry_uri:
            object.__setattr__(self, "registry_uri", self.tracking_uri)

    @property
    def is_server(self) -> bool:
        return self.tracking_uri.startswith(("http://", "https://"))

    def ui_command(self) -> str:
        """What a user runs (or opens) to see the runs and models in the MLflow UI."""
        if self.is_server:
            return f"open {self.tracking_uri} (the tracking server serves the MLflow UI)"
        return f"mlflow ui --backend-store-uri {shlex.quote(self.tracking_uri)}"
