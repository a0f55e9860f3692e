"""Which version ``@champion`` and ``@challenger`` point to, and how they got there.

MLflow holds where an alias points now; the project's metadata store holds every
move (stores/metadata/model_aliases.py). A rollback undoes the last promotion that
is still in effect: the history is replayed as a stack (a promotion pushes its
version, a rollback pops one), so promoting 1, 2, 3 and rolling back twice leaves 1.

>>> from datetime import datetime, UTC
>>> def move(action, to):
...     return AliasChange("m", "champion", action, None, to, datetime.now(UTC), "me", "x")
>>> rollback_target([move("promote", 1), move("promote", 2), move("promote", 3)])
2
>>> print(rollback_target([move("promote", 1), move("promote", 2), move("rollback", 1)]))
None
"""

from __future__ import annotations

from collections.abc import Sequence

from confluens.errors import InputError
from confluens.stores.metadata.model_aliases import AliasChange

__all__ = ["ALIASES", "check_alias", "check_reason", "rollback_target"]

ALIASES = ("champion", "challenger")


def check_alias(alias: object) -> str:
    """``champion`` or ``challenger`` (a leading ``@`` is allowed)."""
    name = alias[1:] if isinstance(alias, str) and alias.startswith("@") else alias
    if name not in ALIASES:
        raise InputError("model alias", "must be one of "
                         + ", ".join(f"@{a}" for a in ALIASES), got=alias,
                         fix="use --alias champion (the default) or --alias challenger")
    return str(name)


def check_reason(reason: object) -> str:
    """Every move says why: the history is an audit trail."""
    if not isinstance(reason, str) or not reason.strip():
        raise InputError("reason", "every promotion and rollback must say why", got=reason,
                         fix='pass --reason "..." (e.g. "AP 0.71 > 0.69 on the last month")')
    return reason.strip()


def rollback_target(changes: Sequence[AliasChange]) -> int | None:
    """The version a rollback returns to: the one before the promotion in effect."""
    stack: list[int] = []
    for change in changes:
        if change.action == "promote":
            stack.append(change.to_version)
        elif stack:
            stack.pop()
    return stack[-2] if len(stack) >= 2 else None
