"""confluens: define sources, checks and features once; ingest, compute and serve them.

>>> import confluens
>>> confluens.Source("tx", schema={"id": "int64", "ts": "timestamp"}, event_time="ts").name
'tx'

Names are imported on first use (module ``__getattr__``), so that ``import confluens``
and the command line start quickly; ``__all__`` lists every public name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from pathlib import Path

    from confluens import errors
    from confluens.core import (
        AUC,
        NDCG,
        PHM08,
        RMSE,
        AveragePrecision,
        CardPrecision,
        Check,
        Count,
        Custom,
        Definitions,
        DefinitionsDiff,
        DistinctCount,
        DType,
        Entity,
        Estimator,
        Events,
        FeatureView,
        Field,
        HitRate,
        Last,
        Latest,
        Max,
        Mean,
        Min,
        Model,
        NotNull,
        OneOf,
        Prequential,
        Range,
        Ratio,
        Regex,
        Schema,
        Snapshot,
        Source,
        Std,
        StreamBinding,
        Sum,
        TimeSplit,
        Unique,
    )
    from confluens.project import Project

__version__ = "0.1.0"

__all__ = [
    "AUC",
    "NDCG",
    "PHM08",
    "RMSE",
    "AveragePrecision",
    "CardPrecision",
    "Check",
    "Count",
    "Custom",
    "DType",
    "Definitions",
    "DefinitionsDiff",
    "DistinctCount",
    "Entity",
    "Estimator",
    "Events",
    "FeatureView",
    "Field",
    "HitRate",
    "Last",
    "Latest",
    "Max",
    "Mean",
    "Min",
    "Model",
    "NotNull",
    "OneOf",
    "Prequential",
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
    "TimeSplit",
    "Unique",
    "__version__",
    "errors",
    "init",
    "open",
]

# where each lazily imported public name lives
_LAZY = {name: "confluens.core" for name in __all__ if name[0].isupper()}
_LAZY["Project"] = "confluens.project"


def __getattr__(name: str) -> Any:
    if name == "errors":
        return importlib.import_module("confluens.errors")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'confluens' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def open(path: str | Path = ".") -> Project:
    """Open the project at ``path`` (or its nearest parent holding confluens.toml)."""
    from confluens.project import Project

    return Project(path)


def init(path: str | Path, *, template: str = "fraud", force: bool = False) -> Path:
    """Create a project folder from a template; return its path."""
    from confluens.project import init_project

    return init_project(path, template=template, force=force)
