"""What every command shares: the project option, consoles and error reporting."""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from confluens.errors import ConfluensError, UserCodeError
from confluens.project import Project

__all__ = ["err", "open_project", "out", "project_option", "reports_errors"]

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

project_option = click.option(
    "--project", "-p", "project_dir", default=".", envvar="CONFLUENS_PROJECT",
    show_default=True, type=click.Path(file_okay=False),
    help="Project folder (or any folder below it); also $CONFLUENS_PROJECT.")


def open_project(path: str) -> Project:
    return Project(path)


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
            original = exc.original
            err.print("".join(traceback.format_exception(original)).rstrip(), markup=False)
            err.print(f"[bold red]error:[/] {exc}")
            sys.exit(1)
        except ConfluensError as exc:
            err.print(f"[bold red]error:[/] {exc}")
            sys.exit(2)

    return wrapper  # type: ignore[return-value]
