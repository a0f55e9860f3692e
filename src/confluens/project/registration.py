"""A project's definitions and their registration: what ``apply`` would change, the
apply itself, and the check every command makes that a source is applied as written."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from confluens.core import Definitions, DefinitionsDiff, Source, diff_specs
from confluens.errors import NotAppliedError
from confluens.project.loader import load_definitions
from confluens.project.store_factory import ProjectStores

__all__ = ["Registration"]


class Registration:
    """The definitions module at ``path`` (loaded on first use) and the metadata store
    where ``apply`` registers their versions."""

    def __init__(self, path: Path, stores: ProjectStores) -> None:
        self.path = path
        self.stores = stores

    @cached_property
    def definitions(self) -> Definitions:
        return load_definitions(self.path)

    def plan(self) -> DefinitionsDiff:
        """What `apply` would change."""
        applied = {k: v.spec for k, v in self.stores.metadata.applied().items()}
        return diff_specs(_jsonable(applied), _jsonable(self.definitions.specs()))

    def apply(self) -> DefinitionsDiff:
        """Register the current definitions; return what changed since the last apply."""
        diff = self.plan()
        if not diff.empty:
            self.stores.metadata.apply(self.definitions.specs(), datetime.now(UTC))
        return diff

    def applied_version(self, source: Source) -> int:
        """The registered version of ``source``; NotAppliedError unless the last apply
        registered it exactly as it is defined now."""
        applied = self.stores.metadata.applied().get(f"source:{source.name}")
        if applied is None or _jsonable(applied.spec) != _jsonable(source.spec()):
            raise NotAppliedError(
                f"source '{source.name}'",
                "differs from the version registered by the last apply" if applied else
                "has not been registered yet", fix="run `confluens apply` to register it")
        return applied.version


def _jsonable(value: Any) -> Any:
    """Specs as they come back from JSON (tuples become lists), for comparison."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))
