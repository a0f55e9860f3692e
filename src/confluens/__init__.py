"""confluens: define sources, checks and features once; ingest, compute and serve them.

>>> import confluens
>>> confluens.Source("tx", schema={"id": "int64", "ts": "timestamp"}, event_time="ts").name
'tx'
"""

from __future__ import annotations

from pathlib import Path

from confluens import errors
from confluens.core import (
    Check,
    Count,
    Custom,
    Definitions,
    DefinitionsDiff,
    DistinctCount,
    DType,
    Entity,
    Events,
    FeatureView,
    Field,
    Last,
    Latest,
    Max,
    Mean,
    Min,
    NotNull,
    OneOf,
    Range,
    Ratio,
    Regex,
    Schema,
    Snapshot,
    Source,
    Std,
    StreamBinding,
    Sum,
    Unique,
)
from confluens.project import Project
from confluens.project import init_project as _init_project

__version__ = "0.1.0"

__all__ = [
    "Check",
    "Count",
    "Custom",
    "DType",
    "Definitions",
    "DefinitionsDiff",
    "DistinctCount",
    "Entity",
    "Events",
    "FeatureView",
    "Field",
    "Last",
    "Latest",
    "Max",
    "Mean",
    "Min",
    "NotNull",
    "OneOf",
    "Project",
    "Range",
    "Ratio",
    "Regex",
    "Schema",
    "Snapshot",
    "Source",
    "Std",
    "StreamBinding",
    "Sum",
    "Unique",
    "__version__",
    "errors",
    "init",
    "open",
]


def open(path: str | Path = ".") -> Project:
    """Open the project at ``path`` (or its nearest parent holding confluens.toml)."""
    return Project(path)


def init(path: str | Path, *, template: str = "fraud", force: bool = False) -> Path:
    """Create a project folder from a template; return its path."""
    return _init_project(path, template=template, force=force)
