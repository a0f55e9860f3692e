"""`confluens models`: list, show, promote, roll back and audit registered models.

MLflow is imported by the project's registry when a subcommand runs, never by
``confluens models --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.table import Table

from confluens.interfaces.cli.context import (
    escape,
    open_project,
    out,
    project_option,
    reports_errors,
)

if TYPE_CHECKING:
    from confluens.lifecycle.registry import AliasChange, ModelRegistry

__all__ = ["models"]

_ALIAS = click.option("--alias", "-a", default="champion", show_default=True,
                      help="The alias to move: champion or challenger.")
_REASON = click.option("--reason", "-r", required=True,
                       help="Why (kept in the alias history with who and when).")
_BY = click.option("--by", default=None, help="Who, for the history (default: your user "
                   "name).")


@click.group()
def models() -> None:
    """Registered models: list, show, promote, roll back, and the alias history."""


def _where(registry: ModelRegistry) -> None:
    out.print(f"[dim]MLflow UI: {escape(registry.settings.ui_command())}[/]")


@models.command("list")
@project_option
@reports_errors
def list_(project_dir: str) -> None:
    """List the registered models, their latest version and aliases."""
    with open_project(project_dir) as project:
        registry = project.registry
        found = registry.models()
        if not found:
            out.print("no registered models yet; `confluens train MODEL` registers one")
        else:
            table = Table(title="registered models", title_justify="left")
            for column in ("model", "latest", "@champion", "@challenger", "updated (UTC)"):
                table.add_column(column, justify="right" if column in (
                    "latest", "@champion", "@challenger") else "left")
            for m in found:
                table.add_row(escape(m.name), _num(m.latest), _num(m.aliases.get("champion")),
                              _num(m.aliases.get("challenger")),
                              m.updated_at.strftime("%Y-%m-%d %H:%M:%S"))
            out.print(table)
        _where(registry)


@models.command()
@click.argument("name")
@project_option
@reports_errors
def show(name: str, project_dir: str) -> None:
    """Show every version of model NAME: aliases, metrics and lineage."""
    with open_project(project_dir) as project:
        registry = project.registry
        versions = registry.versions(name, metrics=True)
        table = Table(title=f"model {escape(name)}", title_justify="left")
        table.add_column("version", justify="right")
        table.add_column("aliases")
        table.add_column("created (UTC)")
        table.add_column("metrics", overflow="fold")
        table.add_column("lineage", overflow="fold")
        for v in versions:
            metrics = "\n".join(f"{escape(k)} {v.metrics[k]:.4g}" for k in sorted(v.metrics))
            lineage = "\n".join([
                f"{escape(v.flavor)} {escape(v.task)}",
                f"definitions {escape(v.definitions_hash[:12])}",
                f"data {escape(v.data_snapshot)}", f"code {escape(_code_version(v.code_version))}",
                f"run {escape(v.run_id)}"])
            table.add_row(str(v.version), "\n".join(f"@{a}" for a in v.aliases),
                          v.created_at.strftime("%Y-%m-%d\n%H:%M:%S"), metrics, lineage)
        out.print(table)
        out.print(f"load one with ModelRegistry.load({name!r}, 'champion') or "
                  f"mlflow.pyfunc.load_model('models:/{escape(name)}@champion')")
        _where(registry)


def _code_version(code: str) -> str:
    """``git:<commit>[-dirty]`` with the commit cut to 12 digits; anything else (e.g.
    ``confluens 0.1.0``, the version of a project outside git) whole."""
    kind, colon, rest = code.partition(":")
    if kind != "git" or not colon:
        return code
    commit, dash, dirty = rest.partition("-")
    return f"git:{commit[:12]}{dash}{dirty}"


@models.command()
@click.argument("name")
@click.argument("version")
@_ALIAS
@_REASON
@_BY
@project_option
@reports_errors
def promote(name: str, version: str, alias: str, reason: str, by: str | None,
            project_dir: str) -> None:
    """Point NAME@ALIAS (champion by default) at VERSION; the move is audited."""
    with open_project(project_dir) as project:
        change = project.registry.promote(name, version, alias, reason=reason, by=by)
        if change is None:
            out.print(f"{escape(name)}@{escape(alias.lstrip('@'))} is already version "
                      f"{escape(version)}; nothing changed")
        else:
            out.print(_moved(change))


@models.command()
@click.argument("name")
@_ALIAS
@_REASON
@_BY
@project_option
@reports_errors
def rollback(name: str, alias: str, reason: str, by: str | None, project_dir: str) -> None:
    """Point NAME@ALIAS back at the version it had before its last promotion."""
    with open_project(project_dir) as project:
        out.print(_moved(project.registry.rollback(name, alias, reason=reason, by=by)))


@models.command()
@click.argument("name")
@click.option("--alias", "-a", default=None, help="Only this alias's moves.")
@project_option
@reports_errors
def history(name: str, alias: str | None, project_dir: str) -> None:
    """Every promotion and rollback of model NAME: what, when, who and why."""
    with open_project(project_dir) as project:
        changes = project.registry.history(name, alias)
        if not changes:
            project.registry.versions(name)  # a name not in the registry is a mistake
            out.print(f"no alias moves recorded for {escape(name)}")
            return
        table = Table(title=f"alias history of {escape(name)}", title_justify="left")
        for column in ("when (UTC)", "alias", "action", "from", "to", "by", "reason"):
            table.add_column(column, justify="right" if column in ("from", "to") else "left",
                             overflow="fold")
        for c in changes:
            table.add_row(c.at.strftime("%Y-%m-%d %H:%M:%S"), f"@{escape(c.alias)}",
                          c.action, _num(c.from_version), str(c.to_version), escape(c.actor),
                          escape(c.reason))
        out.print(table)


def _moved(change: AliasChange) -> str:
    before = "unset" if change.from_version is None else f"version {change.from_version}"
    return (f"{change.action}: {escape(change.model)}@{escape(change.alias)} {before} → "
            f"version {change.to_version} (by {escape(change.actor)}: "
            f"{escape(change.reason)})")


def _num(value: int | None) -> str:
    return "" if value is None else str(value)
