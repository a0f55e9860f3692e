"""A registered model version as confluens shows it, read from MLflow's registry."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["TAG", "ModelVersion", "from_mlflow"]

TAG = "confluens."  # prefix of the run and model version tags confluens writes


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model: where it came from and what it carries."""

    name: str
    version: int
    run_id: str
    created_at: datetime
    aliases: tuple[str, ...]
    flavor: str
    task: str
    sha256: str  # of the model file, checked before every load
    features: tuple[str, ...]
    definitions_hash: str
    data_snapshot: str
    code_version: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    source: str = ""  # MLflow's URI of the model's files

    @property
    def uri(self) -> str:
        """The URI MLflow's own tools take: ``models:/NAME/VERSION``."""
        return f"models:/{self.name}/{self.version}"


def from_mlflow(entity: Any, metrics: Mapping[str, float] | None = None) -> ModelVersion:
    """A ``ModelVersion`` from MLflow's model version entity and its run's metrics."""
    tags: dict[str, str] = dict(entity.tags or {})

    def tag(name: str) -> str:
        return tags.get(TAG + name, "")

    return ModelVersion(
        name=entity.name, version=int(entity.version), run_id=entity.run_id or "",
        created_at=datetime.fromtimestamp(entity.creation_timestamp / 1000, tz=UTC),
        aliases=tuple(sorted(entity.aliases or ())), flavor=tag("flavor"), task=tag("task"),
        sha256=tag("sha256"), features=tuple(json.loads(tag("features") or "[]")),
        definitions_hash=tag("definitions_hash"), data_snapshot=tag("data_snapshot"),
        code_version=tag("code_version"), metrics=dict(metrics or {}),
        source=entity.source or "")
