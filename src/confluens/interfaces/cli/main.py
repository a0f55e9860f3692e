"""`confluens`: the command group and its commands.

The commands live in their own modules and load when used (see lazy.py), so that
``confluens --help`` starts in a few hundredths of a second.
"""

from __future__ import annotations

import os

import click

from confluens import __version__
from confluens.interfaces.cli.lazy import LazyCommand, LazyGroup

__all__ = ["cli", "main"]

_CLI = "confluens.interfaces.cli"
COMMANDS = {
    "init": LazyCommand(f"{_CLI}.project:init", "Create a project folder DIRECTORY from a "
                        "template."),
    "apply": LazyCommand(f"{_CLI}.project:apply", "Validate the definitions and register "
                         "them; print what changed since..."),
    "ingest": LazyCommand(f"{_CLI}.project:ingest", "Ingest records into SOURCE from a "
                          "file, a glob, or a database query."),
    "show": LazyCommand(f"{_CLI}.project:show", "Show stored records of SOURCE."),
    "runs": LazyCommand(f"{_CLI}.project:runs", "List ingest runs, with their ids and counts."),
    "spine": LazyCommand(f"{_CLI}.spine:spine", "Write a spine: SOURCE's records of a "
                         "period, for `confluens training-set`."),
    "quarantine": LazyCommand(f"{_CLI}.quarantine:quarantine", "Records rejected by a "
                              "source's checks: list them, retry them..."),
    "generate": LazyCommand(f"{_CLI}.generate:generate", "Write seeded synthetic datasets "
                            "(no download needed)."),
    "training-set": LazyCommand(f"{_CLI}.features:training_set", "Join features to a "
                                "spine, each value as of its row's timestamp..."),
    "materialize": LazyCommand(f"{_CLI}.features:materialize", "Bring VIEWS' per-event "
                               "feature tables and online state up to..."),
    "features": LazyCommand(f"{_CLI}.features:features", "Read feature values."),
    "serve": LazyCommand(f"{_CLI}.serve:serve", "Serve predictions over HTTP (/v1 and the "
                         "Open Inference Protocol v2) with..."),
    "models": LazyCommand(f"{_CLI}.models:models", "Registered models: list, show, "
                          "promote, roll back, and the alias..."),
    "stream": LazyCommand(f"{_CLI}.stream:stream", "Consume SOURCES' streams (default: every "
                          "source bound to one) into the..."),
    "replay": LazyCommand(f"{_CLI}.stream:replay", "Publish FILE's records into SOURCE's "
                          "stream in event-time order."),
    "status": LazyCommand(f"{_CLI}.stream:status", "Where each stream stands: per "
                          "partition and per feature view, with..."),
    "compact": LazyCommand(f"{_CLI}.compact:compact", "Merge the small files of SOURCES' "
                           "stored records (all sources by..."),
    "train": LazyCommand(f"{_CLI}.train:train", "Train MODEL on its point-in-time "
                         "training set and print its test..."),
}


@click.group(cls=LazyGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="confluens")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error "
              "(also $CONFLUENS_DEBUG=1).")
def cli(debug: bool) -> None:
    """confluens: sources, checks and features defined once in Python, run everywhere.

    Start with `confluens init DIR`, then `confluens apply` and `confluens ingest`.
    Relative paths, on the command line as in confluens.toml, start at the project
    folder.
    """
    _asked["debug"] = debug


# --debug as parsed: a command re-raises its internal error under --debug, and the
# error reaches main() after click's context (which held the flag) is gone
_asked = {"debug": False}


def main() -> None:
    """The `confluens` program: the commands report their own errors (context.py);
    this catches what escapes before a command runs, e.g. in argument parsing, and
    shows the traceback of an internal error a command re-raised under --debug. (The
    guard is imported only then: it loads rich, which --help does not need.)"""
    _asked["debug"] = False
    try:
        cli(prog_name="confluens")
    except Exception as exc:
        from confluens.interfaces.cli.context import DEBUG_ENV, guard, show_traceback

        if _asked["debug"] or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            show_traceback(exc)
        with guard():
            raise exc


if __name__ == "__main__":  # pragma: no cover
    main()
