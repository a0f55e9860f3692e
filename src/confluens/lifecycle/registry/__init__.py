"""The model registry: MLflow tracking and registry, plus confluens' alias history.

Importing this package does not import MLflow; the first call that needs it does
(a missing one raises MissingExtraError naming the ``models`` extra).
"""

from confluens.lifecycle.registry.loading import RegisteredModel
from confluens.lifecycle.registry.registry import ModelRegistry, ModelSummary, parse_ref
from confluens.lifecycle.registry.settings import RegistrySettings
from confluens.lifecycle.registry.versions import ModelVersion
from confluens.stores.metadata.model_aliases import AliasChange, AliasHistory

__all__ = ["AliasChange", "AliasHistory", "ModelRegistry", "ModelSummary", "ModelVersion",
           "RegisteredModel", "RegistrySettings", "parse_ref"]
