"""Projects: a folder with confluens.toml and definitions, and what runs against it."""

from confluens.project.config import ProjectConfig
from confluens.project.handle import Project, find_project
from confluens.project.scaffold import TEMPLATES, init_project

__all__ = ["TEMPLATES", "Project", "ProjectConfig", "find_project", "init_project"]
