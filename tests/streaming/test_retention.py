"""The retention rule in Python (``streaming/retention.py``) keeps exactly the events
``plan/retention.py``'s SQL keeps (DuckDB), on random views, events and horizons."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.duckdb_session import connect
from confluens.plan import reference
from confluens.plan.retention import compile_retained
from confluens.sqlx import render
from confluens.streaming.retention import retained
from tests.streaming.cases import T0_US, S, drawn


def kept_by_duckdb(plan: Any, events: Any, horizon: int) -> set[tuple[Any, ...]]:
    con = connect()
    try:
        con.register("events", events)
        rows = con.sql(render(compile_retained(plan, horizon))).to_arrow_table().to_pylist()
    finally:
        con.close()
    return {(*(r[k] for k in plan.keys), r["__tie_order"]) for r in rows}


def kept_in_python(plan: Any, events: Any, horizon: int) -> tuple[set[tuple[Any, ...]],
                                                                  dict[Any, int | None]]:
    by_key: dict[Any, list[reference.Event]] = {}
    for e in reference.events_of(plan, events):
        by_key.setdefault(e.key, []).append(e)
    kept: set[tuple[Any, ...]] = set()
    left_out: dict[Any, int | None] = {}
    for key, found in by_key.items():
        found.sort(key=reference.order)
        out = retained(plan, [e.t for e in found],
                       [e.t if e.known is None else e.known for e in found],
                       {w: [w in e.passes for e in found] for w in
                        {a.where for a in plan.aggregations if a.where is not None}},
                       horizon)
        kept |= {(*key, found[i].tie) for i in out.kept}
        dropped = [e.t for i, e in enumerate(found) if i not in set(out.kept)]
        assert out.left_out == (max(dropped) if dropped else None)
        left_out[key] = out.left_out
    return kept, left_out


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(0, 18), horizon=st.integers(-3, 45))
def test_python_keeps_what_the_sql_keeps(seed: int, n: int, horizon: int) -> None:
    case = drawn(seed, n)
    at = T0_US + horizon * S
    python, _ = kept_in_python(case.plan, case.events, at)
    assert python == kept_by_duckdb(case.plan, case.events, at), case.plan


def test_the_latest_rule_keeps_one_visible_event_and_the_unknown_ones() -> None:
    """A ``latest`` value keeps the latest visible row (n = 1), and rows not yet known."""
    from confluens.core import Entity, Snapshot
    from confluens.plan.conformance import _source
    from confluens.plan.ir import plan_view

    plan = plan_view(Snapshot("s", Entity("k", ["k"]), _source(known=True), ["v"],
                              ttl="5s"))
    t = [1 * S, 2 * S, 3 * S, 4 * S]
    known = [1 * S, 2 * S, 9 * S, 3 * S]
    out = retained(plan, t, known, {}, horizon=5 * S)
    assert out.kept == [2, 3]  # 3 is not known yet; 4 is the latest visible
    assert out.left_out == 2 * S
