"""The project's model registry, as confluens.toml's ``[models]`` section sets it.

By default MLflow tracks into ``<storage root>/mlflow.db`` (SQLite) and keeps the
artifacts in ``<storage root>/mlartifacts``, so a project needs no server; the
alias history goes to the project's metadata store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from confluens.lifecycle.registry import AliasHistory, ModelRegistry, RegistrySettings

if TYPE_CHECKING:
    from confluens.project.config import ProjectConfig
    from confluens.stores.metadata import SqlMetadataStore

__all__ = ["model_registry", "registry_settings"]


def registry_settings(config: ProjectConfig) -> RegistrySettings:
    """Where the project's runs, models and artifacts live."""
    return RegistrySettings(tracking_uri=config.tracking_uri,
                            registry_uri=config.registry_uri,
                            experiment=config.experiment,
                            artifact_root=config.store_root / "mlartifacts")


def model_registry(config: ProjectConfig, metadata: SqlMetadataStore) -> ModelRegistry:
    """The project's registry: MLflow from ``config``, history in ``metadata``."""
    config.store_root.mkdir(parents=True, exist_ok=True)
    return ModelRegistry(registry_settings(config), AliasHistory(metadata.engine))
