"""The online state of a view: what the online store keeps per entity, and reads.

For each entity, the events that can still fall in a window from the latest event
time on (see plan/retention.py), packed as columns (streaming/packed.py). A read
unpacks them and evaluates every window at the time of the read
(streaming/window_events.py), so values decay as time passes.

Each entity's value is an envelope (streaming/stored_state.py: the earliest time, in
µs, from which its state answers exactly, the latest left-out event's time and the
horizon), then the packed events; a stream processor writes the same values
(streaming/entity_state.py). The earliest time (streaming/exact_reads.py) is the very past
when no event of the entity was left out. When some were, with L the latest left-out
event's time, it is the latest of: L plus the longest delay + window (from then on no
time window reaches a left-out event), and for each event-count window Events(n)
(delay d, filter f) the time its n-th kept event after L passing f becomes visible
(known, and past d), when the n latest visible events are all kept ones; and never
later than the materialize horizon, from which the state is exact by construction.
A read before it is refused, never answered wrongly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp

from confluens.core import FeatureView
from confluens.duckdb_session import connect
from confluens.errors import InputError
from confluens.plan import plan_view
from confluens.plan.ir import ViewPlan
from confluens.plan.retention import compile_retained, filters_of, value_columns
from confluens.plan.user_sql import blame
from confluens.plan.version import VERSION
from confluens.project.instants import require_zone
from confluens.sqlx import aliased, col, func, render, same_keys, table_ref
from confluens.stores.online import OnlineStore
from confluens.streaming import compile_plan, evaluate_compiled
from confluens.streaming.packed import PackedEvents, pack_events, unpack_events
from confluens.streaming.stored_state import (
    STATE_FORMAT,
    decode_state,
    encode_entity,
    entity_key,
    open_state,
)
from confluens.streaming.window_events import CompiledPlan
from confluens.streaming.window_many import evaluate_many, evaluate_many_columns, placed

__all__ = ["STATE_FORMAT", "FeatureRows", "FeatureVector", "decode_state", "entity_key",
           "online_state", "read_online", "read_online_at", "read_online_at_columns",
           "read_online_views"]


class FeatureRows(list[dict[str, Any]]):
    """Feature values, one dict per requested key, in the order of the keys.

    ``found[i]`` tells whether key i had online state; ``missing`` lists the keys (as
    requested) that had none (never materialized, or expired): their values are those
    of an empty window (0 for counts and sums, null otherwise).
    """

    def __init__(self, rows: Sequence[dict[str, Any]], found: list[bool],
                 keys: Sequence[Any]) -> None:
        super().__init__(rows)
        self.found = found
        self._keys = keys

    @property
    def missing(self) -> list[Any]:
        return [k for k, f in zip(self._keys, self.found, strict=True) if not f]


class FeatureVector(dict[str, Any]):
    """One feature vector across views: feature name -> value. ``missing`` lists the
    views whose entity had no online state (their features read as an empty window)."""

    def __init__(self, values: dict[str, Any], missing: Sequence[str]) -> None:
        super().__init__(values)
        self.missing = list(missing)


def online_state(plan: ViewPlan, files: list[str], *,
                 entities: pa.Table | None = None) -> dict[str, bytes]:
    """The packed state of every entity in ``files``, or only of ``entities`` (a table
    of the view's key columns); the horizon is the latest event time of all files."""
    con = connect()
    try:
        con.register("stored", con.read_parquet(files, union_by_name=True))
        latest = exp.select(func("max", func("epoch_us", col(plan.event_time)))).from_(
            table_ref("stored"))
        (horizon,) = con.sql(render(latest)).fetchall()[0]
        events: exp.Select = exp.select(exp.Star()).from_(table_ref("stored"))
        if entities is not None and plan.keys:  # without keys: the one entity changed
            con.register("chosen", entities)
            events = events.join(table_ref("chosen"), join_type="semi",
                                 on=exp.and_(*same_keys(plan.keys, "stored", "chosen")))
        con.register("events", con.sql(render(events)))
        try:
            rows = con.sql(render(compile_retained(plan, int(horizon or 0)))).to_arrow_table()
        except duckdb.Error as exc:
            found = blame(plan, con, "events", exc)
            if found is None:
                raise
            raise found from exc
        dropped = _left_out(plan, con, rows)
    finally:
        con.close()
    return _encode(plan, rows, dropped=dropped, horizon=int(horizon or 0))


def _left_out(plan: ViewPlan, con: duckdb.DuckDBPyConnection,
              kept: pa.Table) -> dict[str, int]:
    """Per entity with events the state leaves out: the latest such event's time."""
    con.register("kept", kept)
    keys = [col(k, "e") for k in plan.keys]
    same_event = exp.and_(*same_keys(plan.keys, "e", "k"), exp.EQ(
        this=col(plan.tie, "e"), expression=col("__tie_order", "k")))
    query = (exp.select(*keys, func("max", func("epoch_us", col(plan.event_time, "e"))))
             .from_(aliased("events", "e"))
             .join(aliased("kept", "k"), on=same_event, join_type="anti")
             .group_by(*[k.copy() for k in keys]))
    return {entity_key(row[:-1]): row[-1] for row in con.sql(render(query)).fetchall()}


def _encode(plan: ViewPlan, rows: pa.Table, *, dropped: dict[str, int] | None = None,
            horizon: int = 0) -> dict[str, bytes]:
    """Rows ordered by entity, then event order, as one stored value per entity
    (``streaming/stored_state.py``; ``dropped``: see ``_left_out``; None: nothing left
    out)."""
    columns = value_columns(plan)
    filters = filters_of(plan)
    data = rows.to_pydict()
    keys = ([entity_key(k) for k in zip(*[data[k] for k in plan.keys], strict=True)]
            if plan.keys else [entity_key([])] * rows.num_rows)
    t, tie, known = data["__t"], data["__tie"], data["__k"]
    versions = None if plan.version is None else data[VERSION]
    out: dict[str, bytes] = {}
    start = 0
    for end in range(1, len(keys) + 1):
        if end < len(keys) and keys[end] == keys[start]:
            continue
        part = slice(start, end)
        out[keys[start]] = encode_entity(
            plan, t[part], None if versions is None else versions[part], tie[part],
            known[part], {c: data[c][part] for c in columns},
            {w: data[f"__f{j}"][part] for j, w in enumerate(filters)},
            left_out=(dropped or {}).get(keys[start]), horizon=horizon)
        start = end
    # an entity whose every event is left out still gets a state (no events, and the
    # earliest exact read time): an incremental update must replace its older state
    for key, latest in (dropped or {}).items():
        if key not in out:
            out[key] = encode_entity(plan, [], None if versions is None else [], [], [],
                                     {c: [] for c in columns}, {w: [] for w in filters},
                                     left_out=latest, horizon=horizon)
    return out


_PLANS: dict[int, tuple[FeatureView, ViewPlan]] = {}
_EMPTY: PackedEvents = unpack_events(pack_events([], [], [], {}, {}), "no state")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _plan(view: FeatureView) -> ViewPlan:
    """The view's plan, cached by identity (hashing a view walks its whole definition)."""
    cached = _PLANS.get(id(view))
    if cached is None or cached[0] is not view:
        if len(_PLANS) > 1024:  # definitions reloaded many times: start afresh
            _PLANS.clear()
        cached = _PLANS[id(view)] = (view, plan_view(view))
    return cached[1]


def read_online(view: FeatureView, online: OnlineStore, keys: Sequence[Sequence[Any]],
                at: datetime) -> FeatureRows:
    """The features of ``view`` for each entity of ``keys``, windows evaluated at ``at``."""
    return read_online_views([(view, keys)], online, at)[0]


def read_online_views(requests: Sequence[tuple[FeatureView, Sequence[Sequence[Any]]]],
                      online: OnlineStore, at: datetime) -> list[FeatureRows]:
    """Several views at once (a model's whole feature vector): one store round trip.

    For each (view, keys) request, the features of each entity, as ``read_online``.
    A read earlier than an entity's state can answer exactly raises InputError.
    """
    require_zone(at, "at")
    at_us = (at - _EPOCH) // _MICROSECOND
    blobs = online.read_many([(view.name, [entity_key(k) for k in keys])
                              for view, keys in requests])
    out = []
    for (view, keys), found in zip(requests, blobs, strict=True):
        compiled = compile_plan(_plan(view))
        what = f"feature view '{view.name}'"
        rows = []
        for key, blob in zip(keys, found, strict=True):
            if blob is None:
                rows.append(evaluate_compiled(compiled, _EMPTY, at_us))
                continue
            state = open_state(blob, what)
            if at_us < state.earliest:
                raise _too_early(view, key, at, state.earliest)
            rows.append(evaluate_compiled(compiled, unpack_events(state.packed, what), at_us))
        out.append(FeatureRows(rows, [b is not None for b in found], keys))
    return out


def read_online_at(view: FeatureView, online: OnlineStore, keys: Sequence[Sequence[Any]],
                   times_us: Sequence[int], *, texts: Sequence[str] | None = None,
                   ) -> list[dict[str, Any] | None]:
    """The features of ``view`` for each (entity, time in µs): one store round trip for
    the distinct entities, each evaluated at its row's time; None where the entity's
    state does not answer exactly at that time (stream scoring of late events).
    ``texts``: the keys' ``entity_key`` texts, when the caller has them already
    (``keys`` is then not read)."""
    compiled, exact, entities = _online_asked(view, online, keys, times_us, texts)
    out: list[dict[str, Any] | None] = [None] * len(times_us)
    for chosen, evaluated in zip(exact, evaluate_many(compiled, entities), strict=True):
        for i, values in zip(chosen, evaluated, strict=True):
            out[i] = values
    return out


def read_online_at_columns(view: FeatureView, online: OnlineStore,
                           keys: Sequence[Sequence[Any]], times_us: Sequence[int], *,
                           texts: Sequence[str] | None = None,
                           ) -> tuple[dict[str, list[Any]], list[bool]]:
    """``read_online_at``'s values as columns: each feature's values in the rows'
    order, and whether each row is answered (False where ``read_online_at`` gives
    None; every feature's value there is None). No dict per row."""
    compiled, exact, entities = _online_asked(view, online, keys, times_us, texts)
    n = len(times_us)
    rows = list(chain.from_iterable(exact))
    columns = placed(evaluate_many_columns(compiled, entities), rows, n)
    answered = [False] * n
    for i in rows:
        answered[i] = True
    return {name: column for (name, *_), column in zip(compiled.outputs, columns,
                                                          strict=True)}, answered


def _online_asked(view: FeatureView, online: OnlineStore, keys: Sequence[Sequence[Any]],
                  times_us: Sequence[int], texts: Sequence[str] | None,
                  ) -> tuple[CompiledPlan, list[list[int]], list[tuple[Any, list[int]]]]:
    """``view``'s compiled plan; per distinct entity, the rows it answers exactly, and
    its events read from the store with those rows' times (one round trip)."""
    if texts is None:
        texts = [entity_key(k) for k in keys]
    distinct = list(dict.fromkeys(texts))
    (found,) = online.read_many([(view.name, distinct)])
    compiled = compile_plan(_plan(view))
    what = f"feature view '{view.name}'"
    opened: dict[str, tuple[int, Any]] = {}
    for key, blob in zip(distinct, found, strict=True):
        if blob is None:
            opened[key] = (-(2**63), _EMPTY)
        else:
            state = open_state(blob, what)
            opened[key] = (state.earliest, unpack_events(state.packed, what))
    rows: dict[str, list[int]] = {}
    for i, key in enumerate(texts):
        rows.setdefault(key, []).append(i)
    exact: list[list[int]] = []
    entities: list[tuple[Any, list[int]]] = []
    for key, indexes in rows.items():
        earliest, events = opened[key]
        chosen = [i for i in indexes if times_us[i] >= earliest]
        exact.append(chosen)
        entities.append((events, [times_us[i] for i in chosen]))
    return compiled, exact, entities


def _too_early(view: FeatureView, key: Sequence[Any], at: datetime,
               earliest: int) -> InputError:
    since = (_EPOCH + timedelta(microseconds=earliest)).isoformat()
    return InputError(
        f"feature view '{view.name}', entity {entity_key(key)}",
        f"the online state answers reads from {since} on (older events of this entity are "
        "not kept online)", got=at.isoformat(),
        fix=f"read at or after {since}, or compute past values offline with "
        "project.training_set (`confluens training-set`)")
