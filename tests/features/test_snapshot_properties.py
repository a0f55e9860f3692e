"""Property: a Snapshot's features, in every engine, equal the reference's latest row.

Random rows crowd onto few timestamps (ties broken by a version column, then the id),
hold nulls in either column, and may be known late. Snapshots vary their TTL (none,
inclusive or not, on the edge of the rows' spacing) and their null rule. Each value
is checked against the reference (``confluens.plan.reference``): the latest row in
the TTL window, nulls included, or the latest row with no null for ``nulls="skip"``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.core import Entity, Last, Snapshot, Source
from confluens.errors import DefinitionError
from confluens.plan import event_features, plan_view, point_features
from confluens.plan.retention import compile_retained, filters_of
from confluens.sqlx import render
from confluens.streaming import EntityEvents, evaluate_all
from tests.features.reference import Event, Spec, feature_at

S = 1_000_000
STAMP = pa.timestamp("us", tz="UTC")
SCHEMA = {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64", "w": "string",
          "created": "int64"}
PLAIN = Source("rows", SCHEMA, "ts", id="id", version="created")
KNOWN = Source("rows", {**SCHEMA, "known": "timestamp"}, "ts", id="id", known_at="known",
               version="created")
ENTITY = Entity("k", keys=["k"])

rows_strategy = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 8),
              st.sampled_from([None, 1.0, 2.5]), st.sampled_from([None, "x", "y"]),
              st.sampled_from([None, 0, 1, 2]), st.sampled_from([0, 0, 1, 5])),
    min_size=1, max_size=20)
snapshot_strategy = st.tuples(st.sampled_from([None, 1, 2, 3]), st.booleans(),
                              st.sampled_from(["value", "skip"]))
points_strategy = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(-1, 14)),
                           min_size=1, max_size=10)


class Rows:
    """Random rows as Arrow data and as reference events, one list per column."""

    def __init__(self, raw, *, known: bool) -> None:
        self.raw = raw
        self.known = known
        self.values = {i: (v, w) for i, (_, _, v, w, _, _) in enumerate(raw)}

    def events(self, column: int) -> list[Event]:
        return [Event(k, t * S, i, (v, w)[column], (t + lag) * S if self.known else None,
                      version) for i, (k, t, v, w, version, lag) in enumerate(self.raw)]

    def table(self) -> pa.Table:
        columns = {
            "id": pa.array(range(len(self.raw)), pa.int64()),
            "ts": pa.array([datetime.fromtimestamp(r[1], UTC) for r in self.raw], STAMP),
            "k": [r[0] for r in self.raw],
            "v": pa.array([r[2] for r in self.raw], pa.float64()),
            "w": pa.array([r[3] for r in self.raw], pa.string()),
            "created": pa.array([r[4] for r in self.raw], pa.int64()),
        }
        if self.known:
            columns["known"] = pa.array([datetime.fromtimestamp(r[1] + r[5], UTC)
                                         for r in self.raw], STAMP)
        return pa.table(columns)

    def spec(self, ttl: int | None, inclusive: bool, nulls: str) -> Spec:
        complete = (lambda e: None not in self.values[e.tie]) if nulls == "skip" else None
        return Spec("latest", window_us=10**16 if ttl is None else ttl * S,
                    where=complete, lower_inclusive=inclusive and ttl is not None)


def snapshot(source: Source, ttl: int | None, inclusive: bool, nulls: str) -> Snapshot:
    return Snapshot("profile", ENTITY, source, ["v", "w"],
                    ttl=None if ttl is None else f"{ttl}s", ttl_inclusive=inclusive,
                    nulls=nulls)


def spine_of(points: list[tuple[str, int]]) -> pa.Table:
    return pa.table({"k": [k for k, _ in points],
                     "__at": pa.array([datetime.fromtimestamp(t, UTC) for _, t in points],
                                      STAMP),
                     "__point": pa.array(range(len(points)), pa.int64())})


@pytest.mark.parametrize("engine", ["window", "lookup", "known"])
@settings(max_examples=60, deadline=None)
@given(raw=rows_strategy, shape=snapshot_strategy, points=points_strategy)
def test_snapshots_match_the_reference_at_points_and_events(engine, raw, shape,
                                                            points) -> None:
    rows = Rows(raw, known=engine == "known")
    view = snapshot(KNOWN if rows.known else PLAIN, *shape)
    plan = plan_view(view)
    chosen = "auto" if rows.known else engine
    ref = rows.spec(*shape)
    at_points = point_features(plan, rows.table(), spine_of(points), engine=chosen)
    per_event = {r["__tie"]: r for r in event_features(plan, rows.table(),
                                                       engine=chosen).to_pylist()}
    for column, name in enumerate(["v", "w"]):
        events = rows.events(column)
        got = at_points.column(name).to_pylist()
        for (k, t), value in zip(points, got, strict=True):
            point = Event(k, t * S, 10**9, None, version=2**62)
            assert value == feature_at(events, point, ref), (name, k, t)
        for e in events:
            assert per_event[e.tie][name] == feature_at(events, e, ref), (name, e)


@settings(max_examples=60, deadline=None)
@given(raw=rows_strategy, shape=snapshot_strategy, known=st.booleans(),
       reads=st.lists(st.integers(0, 6), min_size=1, max_size=4))
def test_online_snapshots_keep_only_the_latest_row_and_apply_the_ttl_at_read_time(
        raw, shape, known, reads) -> None:
    """The online state of a snapshot keeps, per entity, the latest row that can be
    seen (and rows not yet known); reads at or after the horizon equal the reference."""
    rows = Rows(raw, known=known)
    plan = plan_view(snapshot(KNOWN if known else PLAIN, *shape))
    horizon = max(r[1] for r in raw) * S
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("events", rows.table())
        kept = con.sql(render(compile_retained(plan, horizon))).to_arrow_table().to_pylist()
    finally:
        con.close()
    filters = filters_of(plan)
    ref = rows.spec(*shape)
    for key in ("a", "b"):
        mine = [r for r in kept if r["k"] == key]
        if not known:
            assert len(mine) <= 1, "only the latest row is kept"
        state = EntityEvents.of((r["__t"], r["__tie"], r["__k"], {"v": r["v"], "w": r["w"]},
                                 [f for i, f in enumerate(filters) if r[f"__f{i}"]])
                                for r in mine)
        for read in reads:
            at = horizon + read * S
            got = evaluate_all(plan, state, at)
            point = Event(key, at, 10**9, None, version=2**62)
            for column, name in enumerate(["v", "w"]):
                assert got[name] == feature_at(rows.events(column), point, ref), (name, at)


def test_one_row_gives_every_feature_unlike_independent_lasts() -> None:
    """The latest row has a null ``w``: the snapshot reads null there (or, skipping
    nulls, the whole older row), where ``Last`` would mix two rows."""
    rows = Rows([("a", 1, 1.0, "x", None, 0), ("a", 2, 2.5, None, None, 0)], known=False)
    spine = spine_of([("a", 2)])
    value = point_features(plan_view(snapshot(PLAIN, 5, True, "value")), rows.table(), spine)
    skip = point_features(plan_view(snapshot(PLAIN, 5, True, "skip")), rows.table(), spine)
    from confluens.core import FeatureView
    lasts = FeatureView("lasts", ENTITY, PLAIN, [Last("v", window="5s", name="v"),
                                                 Last("w", window="5s", name="w")])
    mixed = point_features(plan_view(lasts), rows.table(), spine)
    assert value.select(["v", "w"]).to_pylist() == [{"v": 2.5, "w": None}]
    assert skip.select(["v", "w"]).to_pylist() == [{"v": 1.0, "w": "x"}]
    assert mixed.select(["v", "w"]).to_pylist() == [{"v": 2.5, "w": "x"}]


@pytest.mark.parametrize(("inclusive", "want"), [(True, [1.0, 1.0, None]),
                                                 (False, [1.0, None, None])])
def test_the_ttl_edge_is_included_as_in_feast_or_not(inclusive, want) -> None:
    """A row at 0s with a 10s TTL: read at 9s, at 10s (on the edge) and at 11s."""
    rows = Rows([("a", 0, 1.0, "x", None, 0)], known=False)
    view = snapshot(PLAIN, 10, inclusive, "value")
    for engine in ("window", "lookup"):
        got = point_features(plan_view(view), rows.table(),
                             spine_of([("a", 9), ("a", 10), ("a", 11)]), engine=engine)
        assert got.column("v").to_pylist() == want, engine


def test_a_snapshot_is_checked_when_built() -> None:
    with pytest.raises(DefinitionError, match="nulls must be 'value' or 'skip'"):
        Snapshot("p", ENTITY, PLAIN, ["v"], ttl="1d", nulls="drop")
    with pytest.raises(DefinitionError, match="ttl must be longer than zero"):
        Snapshot("p", ENTITY, PLAIN, ["v"], ttl="0s")
    with pytest.raises(DefinitionError, match="Snapshot 'p' ttl: must be a whole number"):
        Snapshot("p", ENTITY, PLAIN, ["v"], ttl="a month")
    with pytest.raises(DefinitionError, match="columns must be a non-empty list"):
        Snapshot("p", ENTITY, PLAIN, [], ttl="1d")
    with pytest.raises(DefinitionError, match="Snapshot 'p': feature 'nope' reads a column"):
        Snapshot("p", ENTITY, PLAIN, ["nope"], ttl="1d")
    renamed = Snapshot("p", ENTITY, PLAIN, {"score": "v"}, ttl=None)
    assert renamed.feature_names == ["score"]
    assert renamed.spec()["snapshot"] == {"columns": [["score", "v"]], "ttl": None,
                                          "ttl_inclusive": True, "nulls": "value"}
