"""Run a ViewPlan on DuckDB over Arrow data or stored Parquet files.

Two engines share one contract (``docs/concepts.md``):

- ``window``: the whole view as one SQL query with exact rank-range frames
  (``plan/duckdb.py``, ``plan/duckdb_known.py``); handles every plan.
- ``lookup``: the events sorted once, then binary search over prefix arrays
  (``plan/lookup.py``); count, sum, mean, last, min, max and ratios, without known-at.
  Its input comes straight from the stored files where the view evaluates no
  expression (``read_lookup_input``), else from DuckDB.

``engine="auto"`` (the default) takes ``lookup`` where it applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp

from confluens.duckdb_session import connect
from confluens.errors import InputError, NotSupportedError
from confluens.plan.duckdb import compile_events, compile_points
from confluens.plan.duckdb_known import compile_known_events, compile_known_points
from confluens.plan.ir import ViewPlan, require
from confluens.plan.lookup import lookup_events, lookup_input, lookup_points, supports
from confluens.plan.lookup_input import read_lookup_input
from confluens.plan.user_sql import blame
from confluens.sqlx import col, ident, render, table_ref

__all__ = ["Engine", "event_features", "point_features"]

Engine = Literal["auto", "lookup", "window"]


def _register(con: duckdb.DuckDBPyConnection, events: pa.Table | list[str]) -> None:
    if isinstance(events, pa.Table):
        con.register("events", events)
    elif events:
        con.register("events", con.read_parquet(events, union_by_name=True))
    else:
        raise ValueError("no stored events")


def _use_lookup(plan: ViewPlan, engine: Engine) -> bool:
    if engine == "lookup":
        require(plan, "lookup", fix="use engine='window' (or 'auto')")
    if engine == "lookup" and not supports(plan):
        raise NotSupportedError(
            f"feature view '{plan.name}'",
            "the lookup engine takes count, sum, mean, last, min, max and ratios of "
            "counts, sums, means, mins or maxes, without a known-at time",
            got=sorted({a.kind for a in plan.aggregations}),
            fix="use engine='window' (or 'auto')")
    return engine != "window" and supports(plan)


def _lookup_refusal(plan: ViewPlan) -> NotSupportedError:
    return NotSupportedError(
        f"feature view '{plan.name}'", "the lookup engine needs events, int64 or float64 "
        "values to sum, and (entities x time span in µs) below 2**62", got="other events",
        fix="use engine='window' (or 'auto')")


def _integer_sums(plan: ViewPlan, table: pa.Table) -> pa.Table:
    """DuckDB sums integers into 128-bit decimals; features keep them as int64, and a
    sum beyond int64 is refused (InputError) rather than wrapped or rounded."""
    for i, f in enumerate(table.schema):
        if pa.types.is_decimal(f.type) and f.type.scale == 0:
            try:
                table = table.set_column(i, f.name, table.column(i).cast(pa.int64()))
            except pa.ArrowInvalid:
                raise InputError(
                    f"feature view '{plan.name}' feature '{f.name}'",
                    "an integer sum exceeds the int64 range on the stored events",
                    got=f"a sum beyond {2**63 - 1:,}",
                    fix="sum a DOUBLE column instead, e.g. derive={'x': 'CAST(col AS "
                    "DOUBLE)'}") from None
    return table


def event_features(plan: ViewPlan, events: pa.Table | list[str],
                   engine: Engine = "auto", *, only: str | None = None) -> pa.Table:
    """Every feature of ``plan`` at every event of ``events`` (a table or Parquet files),
    or, with ``only`` (a boolean column of ``events``), at the events where it is true;
    the other events still count in windows.

    Rows come in no particular order.
    """
    con = connect()
    try:
        if _use_lookup(plan, engine):
            found = lookup_events(plan, _lookup_input(plan, con, events, only), only)
            if found is not None:
                return found
            if engine == "lookup":
                raise _lookup_refusal(plan)
        _register(con, events)
        with _user_sql(plan, con):
            compiled = (compile_events(plan, "events") if plan.known_at is None
                        else compile_known_events(plan, "events"))
            if only is not None:
                compiled = _only(plan, compiled, only)
            return _integer_sums(plan, con.sql(render(compiled)).to_arrow_table())
    finally:
        con.close()


def _lookup_input(plan: ViewPlan, con: duckdb.DuckDBPyConnection,
                  events: pa.Table | list[str], only: str | None = None) -> pa.Table:
    """The lookup engine's input: read straight from stored files where the view needs
    no query, else by DuckDB over ``events`` (registered on ``con``)."""
    if isinstance(events, list) and only is None:
        stored = read_lookup_input(plan, events)
        if stored is not None:
            return stored
    _register(con, events)
    with _user_sql(plan, con):
        return lookup_input(plan, con, only)


@contextmanager
def _user_sql(plan: ViewPlan, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """An engine error that one of the view's expressions causes becomes a
    FeatureExpressionError naming it (plan/user_sql.py); any other propagates."""
    try:
        yield
    except duckdb.Error as exc:
        found = blame(plan, con, "events", exc)
        if found is None:
            raise
        raise found from exc


def _only(plan: ViewPlan, compiled: exp.Select, only: str) -> exp.Select:
    """``compiled``'s rows for the events where ``only`` is true (ids are unique)."""
    chosen = exp.select(exp.alias_(col(plan.tie), "__tie", quoted=True)).from_(
        table_ref("events")).where(col(only))
    return exp.select(exp.Star()).from_(exp.Subquery(
        this=compiled, alias=exp.TableAlias(this=ident("f")))).where(
        exp.In(this=col("__tie"), query=exp.Subquery(this=chosen)))


def point_features(plan: ViewPlan, events: pa.Table | list[str], points: pa.Table,
                   engine: Engine = "auto") -> pa.Table:
    """Every feature of ``plan`` at each point ``(<keys>, __at, __point)``, by ``__point``."""
    if points.column("__at").null_count:
        raise InputError("points", "every point needs a time", got="a null __at",
                         fix="drop the rows without a time, or fill them in")
    con = connect()
    try:
        if _use_lookup(plan, engine):
            found = lookup_points(plan, _lookup_input(plan, con, events), points)
            if found is not None:
                return found
            if engine == "lookup":
                raise _lookup_refusal(plan)
        _register(con, events)
        con.register("points", points)
        with _user_sql(plan, con):
            compiled = (compile_points(plan, "events", "points") if plan.known_at is None
                        else compile_known_points(plan, "events", "points"))
            return _integer_sums(plan, con.sql(render(compiled)).to_arrow_table())
    finally:
        con.close()
