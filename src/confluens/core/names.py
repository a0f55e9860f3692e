"""Rules for the names of definitions and columns.

>>> check_name("Source", "card_tx")
'card_tx'
"""

from __future__ import annotations

import re

from confluens.errors import DefinitionError

__all__ = ["check_column", "check_name"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_RESERVED_PREFIX = "_confluens"


def check_name(kind: str, name: object) -> str:
    """A definition name: lower snake case, starting with a letter, at most 63 characters."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise DefinitionError(
            f"{kind} name",
            "must be lower snake case: a letter, then letters, digits or '_', at most 63",
            got=name,
            fix="rename it, e.g. 'card_transactions'",
        )
    return name


def check_column(owner: str, name: object) -> str:
    """A column name: any non-empty string that does not use the reserved prefix."""
    if not isinstance(name, str) or not name.strip():
        raise DefinitionError(owner, "a column name must be a non-empty string", got=name,
                              fix="give the column a name")
    if name.startswith((_RESERVED_PREFIX, "__")):
        raise DefinitionError(owner, f"column names starting with '{_RESERVED_PREFIX}' or '__' "
                              "are reserved for confluens", got=name,
                              fix="rename the column, or read it with Field(name, type, raw=...)")
    return name
