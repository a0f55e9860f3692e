"""What every command shares: the project option, consoles and error reporting.

Only click, rich's console and confluens' errors are imported here: every command
module imports this one, and ``confluens --help`` must start quickly (see
benchmarks/cli.py). The engines are imported inside the commands that use them.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.markup import escape

import confluens
from confluens.errors import ConfluensError, UserCodeError

if TYPE_CHECKING:
    from confluens.project import Project

__all__ = ["DEBUG_ENV", "PathText", "err", "escape", "guard", "open_project", "out",
           "project_option", "reports_errors", "show_traceback", "user_traceback"]

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

DEBUG_ENV = "CONFLUENS_DEBUG"

F = TypeVar("F", bound=Callable[..., Any])

class PathText(click.ParamType[str]):
    """A path as typed, checked only for what no file system accepts (a NUL byte).

    Whether it exists, and where a relative one starts, is for the command to say
    (click.Path would stat it, and fail with a traceback on a NUL byte).
    """

    name = "path"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
        if "\x00" in text:
            self.fail(f"{text!r} holds a NUL byte, which no path may contain", param, ctx)
        if not text:
            self.fail("an empty path names nothing; give a file or folder", param, ctx)
        return text


project_option = click.option(
    "--project", "-p", "project_dir", default=".", envvar="CONFLUENS_PROJECT",
    show_default=True, type=PathText(),
    help="Project folder (or any folder below it); also $CONFLUENS_PROJECT.")


def open_project(path: str) -> Project:
    from confluens.project import Project

    return Project(path)


_OURS = str(Path(confluens.__file__).parent)


def user_traceback(exc: BaseException) -> str:
    """The traceback of an exception raised in user code, without confluens' own frames.

    A SyntaxError is shown by itself: its file, line and caret are the user's; the
    frames, all of them confluens' import of the file, are not."""
    if isinstance(exc, SyntaxError):
        return "".join(traceback.format_exception_only(exc)).rstrip()
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith((_OURS, "<frozen importlib"))]
    lines = ["Traceback (most recent call last):\n",
             *traceback.format_list(frames or traceback.extract_tb(exc.__traceback__)),
             *traceback.format_exception_only(exc)]
    return "".join(lines).rstrip()


def _debugging() -> bool:
    """``confluens --debug ...`` or $CONFLUENS_DEBUG: show confluens' own tracebacks."""
    ctx = click.get_current_context(silent=True)
    flag = bool(ctx and ctx.find_root().params.get("debug"))
    return flag or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def show_traceback(exc: BaseException) -> NoReturn:
    """Under --debug: ``exc``'s whole traceback, and the exit code its message would
    have had (2 for a file the system refused, 3 for a bug in confluens)."""
    err.print("".join(traceback.format_exception(exc)).rstrip(), markup=False,
              highlight=False, soft_wrap=True)
    sys.exit(2 if isinstance(exc, OSError) else 3)


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(code)


@contextmanager
def guard() -> Iterator[None]:
    """Turn every exception into one short message and an exit code; never a traceback.

    - a confluens error (the user's input, definitions or settings): its message, exit 2;
    - a file the system refuses (permissions, a full disk): the path and reason, exit 2;
    - a bug in the user's own function: that function's traceback, exit 1;
    - anything else is a bug in confluens: "internal error", exit 3; ``--debug`` (or
      $CONFLUENS_DEBUG=1) shows its traceback.
    """
    try:
        yield
    except UserCodeError as exc:
        err.print(user_traceback(exc.original), markup=False, soft_wrap=True)
        _fail(str(exc), 1)
    except ConfluensError as exc:
        _fail(str(exc), 2)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except OSError as exc:
        if _debugging():
            raise  # main() shows it (show_traceback), as do tests that invoke cli
        where = exc.filename or "a file or connection"
        _fail(f"{where}: the system refused the operation ({exc.strerror or exc}). "
              "Fix: check the path, its permissions and the free space.", 2)
    except Exception as exc:
        if _debugging():
            raise  # main() shows it (show_traceback), as do tests that invoke cli
        _fail(f"internal error ({type(exc).__name__}: {str(exc)[:300]}). This is a bug "
              f"in confluens, not in your input; please report it with the traceback "
              f"shown by `confluens --debug ...` (or {DEBUG_ENV}=1).", 3)


def reports_errors(fn: F) -> F:
    """Run a command inside ``guard``: errors become one message and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with guard():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
