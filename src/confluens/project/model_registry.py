"""The project's model registry, as confluens.toml's ``[models]`` section sets it.

By default MLflow tracks into ``<storage root>/mlflow.db`` (SQLite) and keeps the
artifacts in ``<storage root>/mlartifacts``, so a project needs no server; the
alias history goes to the project's metadata database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from confluens.errors import NotSupportedError
from confluens.lifecycle.registry import AliasHistory, ModelRegistry, RegistrySettings

if TYPE_CHECKING:
    from confluens.project.config import ProjectConfig

__all__ = ["model_registry", "registry_settings"]


def registry_settings(config: ProjectConfig) -> RegistrySettings:
    """Where the project's runs, models and artifacts live."""
    return RegistrySettings(tracking_uri=config.tracking_uri,
                            registry_uri=config.registry_uri,
                            experiment=config.experiment,
                            artifact_root=config.store_root / "mlartifacts")


def model_registry(config: ProjectConfig, metadata: object) -> ModelRegistry:
    """The project's registry: MLflow from ``config``, the alias history in the
    database of ``metadata`` (a SQL metadata store: SQLite or PostgreSQL)."""
    engine = getattr(metadata, "engine", None)
    if engine is None:
        raise NotSupportedError("the model registry", "keeps the alias history in a SQL "
                                "metadata store (SQLite or PostgreSQL)",
                                got=type(metadata).__name__,
                                fix="open the project with its configured metadata store "
                                "([storage] metadata_url)")
    config.store_root.mkdir(parents=True, exist_ok=True)
    return ModelRegistry(registry_settings(config), AliasHistory(engine))
