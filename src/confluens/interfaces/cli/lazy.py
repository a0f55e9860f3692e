"""A command group whose commands are imported only when they run.

``confluens --help`` and ``--version`` then import click and little else: each
command module (and the engines it needs) loads on first use. The group lists its
commands from a table of name, module and one-line help; a test checks that each
line matches the command's own help, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click

__all__ = ["LazyCommand", "LazyGroup"]


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives: ``module:attribute``, and its one-line help."""

    target: str
    short_help: str


class LazyGroup(click.Group):
    def __init__(self, *args: object, lazy: dict[str, LazyCommand] | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, attribute = self.lazy[cmd_name].target.partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, from the table: listing imports no command module."""
        rows = [(name, self.lazy[name].short_help if name in self.lazy and name not in
                 self.commands else self.commands[name].get_short_help_str())
                for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
