"""Custom checks: user functions over a pandas frame of the typed records."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import sqlglot.expressions as exp

from confluens.connectors.chunk import ROW
from confluens.core import Custom, Source
from confluens.core.boundary import user_code
from confluens.errors import UserCodeError
from confluens.sqlx import render, table_ref

__all__ = ["run_custom_checks"]


def run_custom_checks(con: duckdb.DuckDBPyConnection, source: Source, typed: str,
                      out: str) -> dict[str, str]:
    """Run each Custom check on table ``typed``; store verdicts in table ``out``.

    Returns the rule → column mapping for ``verdict_select``. A chunk without records
    (a header-only file) does not call the functions: there is nothing to check.
    """
    customs = [c for c in source.checks if isinstance(c, Custom)]
    if not customs:
        return {}
    frame = con.table(typed).select(
        *[duckdb.ColumnExpression(n) for n in (ROW, *source.schema.names)]
    ).to_arrow_table().to_pandas()
    columns: dict[str, pa.Array] = {ROW: pa.array(frame[ROW].to_numpy(), pa.int64())}
    mapping: dict[str, str] = {}
    view = frame.drop(columns=[ROW])
    for i, check in enumerate(customs):
        thing = f"Custom check '{check.rule}' of source '{source.name}'"
        assert check.fn is not None
        if len(frame):
            with user_code(thing):
                result = check.fn(view.copy())
            verdict = _as_booleans(result, len(frame), thing)
        else:
            verdict = np.zeros(0, np.bool_)
        name = f"__custom_{i}"
        columns[name] = pa.array(verdict, pa.bool_())
        mapping[check.rule] = name
    con.register(f"{out}_arrow", pa.table(columns))
    # one table per chunk: replace the previous chunk's verdicts
    con.execute(render(exp.Create(this=table_ref(out), kind="TABLE", replace=True,
                                  expression=exp.select(exp.Star()).from_(
                                      table_ref(f"{out}_arrow")),
                                  properties=exp.Properties(
                                      expressions=[exp.TemporaryProperty()]))))
    con.unregister(f"{out}_arrow")
    return mapping


def _as_booleans(result: object, n: int, thing: str) -> np.ndarray:
    values = np.asarray(result.to_numpy() if isinstance(result, pd.Series) else result)
    if values.shape != (n,) or values.dtype != np.bool_:
        raise UserCodeError(thing, TypeError(
            f"must return one boolean per record ({n}); returned "
            f"{type(result).__name__} of shape {values.shape} and dtype {values.dtype}"))
    return values
