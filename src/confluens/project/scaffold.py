"""``confluens init``: a new project folder from a template shipped with confluens."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from confluens.errors import ProjectError, UnknownNameError
from confluens.project.config import CONFIG_FILE

__all__ = ["TEMPLATES", "init_project"]

TEMPLATES = ("fraud",)


def init_project(path: str | Path, *, template: str = "fraud", force: bool = False) -> Path:
    """Create a project folder at ``path`` from ``template``; return its path."""
    if template not in TEMPLATES:
        raise UnknownNameError("template", "no template has this name", got=template,
                               fix=f"use one of {list(TEMPLATES)}")
    target = Path(path)
    if (target / CONFIG_FILE).exists() and not force:
        raise ProjectError(str(target), "already holds a project", got=CONFIG_FILE,
                           fix="pick another folder, or pass --force to overwrite its files")
    target.mkdir(parents=True, exist_ok=True)
    _copy_tree(resources.files("confluens.project.templates").joinpath(template), target)
    return target


def _copy_tree(source: Traversable, target: Path) -> None:
    """Copy a template folder; ``dot_x`` files become ``.x``."""
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.name.startswith("__") or item.name.endswith(".pyc"):
            continue
        name = "." + item.name[len("dot_"):] if item.name.startswith("dot_") else item.name
        if item.is_dir():
            _copy_tree(item, target / name)
        else:
            (target / name).write_bytes(item.read_bytes())
