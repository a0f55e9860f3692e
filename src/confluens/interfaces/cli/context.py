"""What every command shares: the project option, consoles and error reporting."""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

import confluens
from confluens.errors import ConfluensError, UserCodeError
from confluens.project import Project

__all__ = ["err", "open_project", "out", "project_option", "reports_errors", "user_traceback"]

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

project_option = click.option(
    "--project", "-p", "project_dir", default=".", envvar="CONFLUENS_PROJECT",
    show_default=True, type=click.Path(file_okay=False),
    help="Project folder (or any folder below it); also $CONFLUENS_PROJECT.")


def open_project(path: str) -> Project:
    return Project(path)


_OURS = str(Path(confluens.__file__).parent)


def user_traceback(exc: BaseException) -> str:
    """The traceback of an exception raised in user code, without confluens' own frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith((_OURS, "<frozen importlib"))]
    lines = ["Traceback (most recent call last):\n",
             *traceback.format_list(frames or traceback.extract_tb(exc.__traceback__)),
             *traceback.format_exception_only(exc)]
    return "".join(lines).rstrip()


def reports_errors(fn: F) -> F:
    """Turn confluens errors into a message and exit code 2 (user code: exit 1).

    A user's mistake never shows a traceback; a bug in the user's own function shows
    that function's traceback, since that is where the fix is.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserCodeError as exc:
            err.print(user_traceback(exc.original), markup=False, soft_wrap=True)
            err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            sys.exit(1)
        except ConfluensError as exc:
            err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]
