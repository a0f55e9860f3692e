"""Projects: a folder with confluens.toml and definitions, and what runs against it.

Names are imported on first use, so that a light module of this package (the
templates, the config) does not pull in the engines.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from confluens.project.config import ProjectConfig
    from confluens.project.project import Project, find_project
    from confluens.project.scaffold import TEMPLATES, init_project

__all__ = ["TEMPLATES", "Project", "ProjectConfig", "find_project", "init_project"]

_HOME = {"TEMPLATES": "scaffold", "Project": "project", "ProjectConfig": "config",
         "find_project": "project", "init_project": "scaffold"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(f"confluens.project.{_HOME[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'confluens.project' has no attribute {name!r}")
