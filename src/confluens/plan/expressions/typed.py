"""A user expression parsed and type-checked once: the value every engine compiles from.

>>> e = typed_expression("hour(ts) <= 6", {"ts": "timestamp"}, where="where")
>>> e.dtype, e.columns, e.text
('bool', ('ts',), 'hour(ts) <= 6')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlglot.expressions as exp

from confluens.plan.expressions.parse import columns_read, parse_expression
from confluens.plan.expressions.typecheck import type_of

__all__ = ["TypedExpression", "typed_expression"]


@dataclass(frozen=True, slots=True)
class TypedExpression:
    """An expression as the user wrote it (``text``), its parsed ``tree`` (never
    mutated: compilers copy it), its result type and the columns it reads."""

    text: str
    tree: exp.Expr = field(compare=False, repr=False)
    dtype: str
    columns: tuple[str, ...]


def typed_expression(text: str, types: Mapping[str, str], where: str) -> TypedExpression:
    """Parse and type-check ``text`` over columns ``types`` (name -> type name);
    DefinitionError naming ``where`` if it is not a valid expression there."""
    tree = parse_expression(text, where)
    return TypedExpression(text, tree, type_of(tree, text, types, where), columns_read(tree))
