"""The input of the lookup engine (``plan/lookup.py``): every event with what it reads.

The input holds keys, event time (``__ts``, and ``__t`` in µs), tie order (``__tie``,
after the version ``__v`` where the source has one), the columns the aggregations
read (derived ones included) and one boolean per filter (``__f<i>``, false where the
filter is false or null). Rows come in no particular order: the engine sorts them
itself.

- ``compile_lookup_input``: the input as a DuckDB query, which evaluates derived
  columns, filters and the version;
- ``read_lookup_input``: for a view with none of those, the input read straight from
  the stored Parquet files, only the columns it needs: no query, no copy.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import sqlglot.expressions as exp

from confluens.plan.duckdb import _Compiler
from confluens.plan.ir import ViewPlan, lower
from confluens.plan.version import VERSION
from confluens.sqlx import col, table_ref

__all__ = ["compile_lookup_input", "flag_names", "read_lookup_input"]


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


_MICROS = "us"


def read_lookup_input(plan: ViewPlan, files: list[str]) -> pa.Table | None:
    """``compile_lookup_input``'s columns for the events stored in Parquet ``files``,
    read without a query; None where the view needs one (derived columns, filters, a
    version) or the files do not hold its columns as the first one does (a column
    added later, another type)."""
    low = lower(plan)
    if (not files or plan.derive or plan.version is not None or plan.known_at is not None
            or low.filters):
        return None
    wanted = list(dict.fromkeys([*plan.keys, plan.event_time, plan.tie,
                                 *low.value_columns]))
    try:
        dataset = ds.dataset(files, format="parquet")
        if any(name not in dataset.schema.names for name in wanted):
            return None
        stored = dataset.to_table(columns=wanted)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    at = stored.column(plan.event_time)
    if not pa.types.is_timestamp(at.type) or at.null_count:
        return None
    at = pc.cast(at, pa.timestamp(_MICROS, tz=at.type.tz))
    columns = {k: stored.column(k) for k in plan.keys}
    columns.update({"__ts": at, "__t": at.cast(pa.int64()), "__tie": stored.column(plan.tie)})
    for name in sorted(low.value_columns):
        columns[name] = stored.column(name)
    return pa.table(columns)
