"""The input of the lookup engine (``plan/lookup.py``), compiled for DuckDB.

``compile_lookup_input`` gives every event with what the lookup engine reads: keys,
event time (``__ts``, and ``__t`` in µs), tie order (``__tie``, after the version
``__v`` where the source has one), the columns the
aggregations read (derived ones included) and one boolean per filter (``__f<i>``,
false where the filter is false or null). Rows come in no particular order: the
engine sorts them itself.
"""

from __future__ import annotations

import sqlglot.expressions as exp

from confluens.plan.duckdb import _Compiler
from confluens.plan.ir import ViewPlan, lower
from confluens.plan.version import VERSION
from confluens.sqlx import col, table_ref

__all__ = ["compile_lookup_input", "flag_names"]


def flag_names(plan: ViewPlan) -> dict[str | None, str]:
    """The flag column of each filter in ``compile_lookup_input``'s output."""
    compiler = _Compiler(plan, "events")
    return {text: f"__f{i}" for i, text in enumerate(compiler.filters)}


def compile_lookup_input(plan: ViewPlan, table: str = "events",
                         extra: list[str] | None = None) -> exp.Select:
    """The lookup engine's input; ``extra`` names more source columns to pass through."""
    compiler = _Compiler(plan, table)
    source = compiler.base()
    columns = sorted({*lower(plan).value_columns, *(extra or [])})
    select = exp.select(
        *[col(k) for k in plan.keys], col("__ts"), col("__t"), col("__tie"),
        *([col(VERSION)] if plan.version is not None else []),
        *[col(c) for c in columns],
        *[col(f"__f{i}") for i in range(len(compiler.filters))],
    ).from_(table_ref(source))
    for name, cte in compiler.ctes:
        select = select.with_(exp.to_identifier(name, quoted=True), as_=cte)
    return select
