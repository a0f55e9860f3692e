"""The conformance checks every feature engine must pass.

An engine computes a view's features at every event and at points in time
(:class:`Engine`). Each check below generates small random cases aimed at one rule of
``docs/concepts.md`` (ties, delays, known-at times, filters, ...) and asserts that the
engine gives exactly what the reference evaluator (``plan/reference.py``) gives, so
that the project's tests and a plug-in author's tests run the very same checks::

    from confluens.plan.conformance import check_engine
    check_engine(MyEngine())  # every check; or check_ties(MyEngine()), ...

An engine declares what it supports (:class:`Capabilities`). Where a case needs what
it lacks, the check expects :class:`~confluens.errors.NotSupportedError` (never a
wrong value, a ``KeyError`` or another error). Non-finite numbers are data, not plan:
for kinds an engine does not declare in ``nonfinite``, it may raise
``NotSupportedError`` or give the reference's value.

Cases are drawn from ``random.Random(seed)``: a failure names the check, the seed and
the case, which reproduce it. Float results must agree to 1e-9 relative.

Adapters for the engines of this package: :data:`WINDOW` (the window compiler,
``plan/duckdb.py``), :data:`KNOWN_AT` (the known-at compiler, ``plan/duckdb_known.py``),
:data:`LOOKUP` (the lookup engine) and :data:`AUTO` (``event_features`` as users call
it); the Python evaluator of the online store is in ``streaming/conformance.py``.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pyarrow as pa

from confluens.core import (
    Aggregation,
    Count,
    DistinctCount,
    Entity,
    Events,
    FeatureView,
    Last,
    Latest,
    Max,
    Mean,
    Min,
    Ratio,
    Snapshot,
    Source,
    Std,
    Sum,
)
from confluens.core.windows import Duration, window_of
from confluens.duckdb_session import connect
from confluens.errors import NotSupportedError
from confluens.plan.duckdb import compile_events, compile_points
from confluens.plan.duckdb_known import compile_known_events, compile_known_points
from confluens.plan.ir import RatioOf, ViewPlan, plan_view
from confluens.plan.reference import events_of, features_at_events, features_at_points, points_of
from confluens.plan.run import Engine as RunEngine
from confluens.plan.run import event_features, point_features
from confluens.sqlx import render

__all__ = ["ALL_KINDS", "AUTO", "CHECKS", "KNOWN_AT", "LOOKUP", "WINDOW", "Capabilities",
           "Case", "Engine", "check_case", "check_count_windows", "check_delays",
           "check_empty_windows", "check_engine", "check_entityless", "check_filters",
           "check_kinds", "check_known_at", "check_nonfinite", "check_null_keys",
           "check_ratios", "check_snapshots", "check_ties", "check_versions"]

ALL_KINDS = frozenset({"count", "sum", "mean", "min", "max", "std", "last", "distinct",
                       "latest"})


# -- what an engine is and declares ---------------------------------------------------

@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an engine supports; anything else must raise ``NotSupportedError``."""

    kinds: frozenset[str] = ALL_KINDS  # aggregation kinds
    ratio_kinds: frozenset[str] = ALL_KINDS  # kinds a ratio's parts may be
    count_windows: bool = True  # Events(n) windows
    known_at: bool = True  # sources with a known-at time
    versions: bool = True  # sources with a version column
    at_events: bool = True  # features at every event (feature tables)
    at_points: bool = True  # features at points in time (training sets, online reads)
    nonfinite: frozenset[str] = ALL_KINDS  # kinds whose values may be NaN or infinite

    def lacking(self, plan: ViewPlan) -> list[str]:
        """What ``plan`` needs that the engine lacks (empty: it must compute the plan)."""
        out = [f"kind '{a.kind}'" for a in plan.aggregations if a.kind not in self.kinds]
        out += [f"'{a.kind}' in a ratio" for f in plan.features if isinstance(f, RatioOf)
                for a in (f.numerator, f.denominator) if a.kind not in self.ratio_kinds]
        if not self.count_windows and any(a.events is not None for a in plan.aggregations):
            out.append("event-count windows")
        if not self.known_at and plan.known_at is not None:
            out.append("a known-at time")
        if not self.versions and plan.version is not None:
            out.append("a version column")
        return list(dict.fromkeys(out))

    def may_refuse_nonfinite(self, plan: ViewPlan) -> bool:
        return any(a.kind not in self.nonfinite for a in plan.aggregations)


class Engine(Protocol):
    """A feature engine, as the checks call it.

    ``events`` holds the source's columns; ``points`` is a spine ``(<keys>, __at,
    __point)``. ``event_features`` gives one row per event, its id in ``__tie`` and
    one column per feature, in any order; ``point_features`` one row per point with
    ``__point`` and the features, in ``__point`` order.
    """

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    def event_features(self, plan: ViewPlan, events: pa.Table) -> pa.Table: ...

    def point_features(self, plan: ViewPlan, events: pa.Table,
                       points: pa.Table) -> pa.Table: ...


# -- the adapters of this package's engines -------------------------------------------

def _sql(select: Any, events: pa.Table, points: pa.Table | None = None) -> pa.Table:
    con = connect()
    try:
        con.register("events", events)
        if points is not None:
            con.register("points", points)
        return con.sql(render(select)).to_arrow_table()
    finally:
        con.close()


@dataclass(frozen=True, slots=True)
class WindowCompiler:
    """``plan/duckdb.py``: one SQL query of rank-range frames; no known-at time."""

    name: str = "window"
    capabilities: Capabilities = Capabilities(known_at=False)

    def event_features(self, plan: ViewPlan, events: pa.Table) -> pa.Table:
        return _sql(compile_events(plan, "events"), events)  # refuses a known-at time

    def point_features(self, plan: ViewPlan, events: pa.Table, points: pa.Table) -> pa.Table:
        return _sql(compile_points(plan, "events", "points"), events, points)


@dataclass(frozen=True, slots=True)
class KnownAtCompiler:
    """``plan/duckdb_known.py``: bounded joins of each point with the events it can
    see. A plan without a known-at time runs as if each event were known at its time."""

    name: str = "known_at"
    capabilities: Capabilities = Capabilities()

    @staticmethod
    def _known(plan: ViewPlan) -> ViewPlan:
        return plan if plan.known_at else dataclasses.replace(plan, known_at=plan.event_time)

    def event_features(self, plan: ViewPlan, events: pa.Table) -> pa.Table:
        return _sql(compile_known_events(self._known(plan), "events"), events)

    def point_features(self, plan: ViewPlan, events: pa.Table, points: pa.Table) -> pa.Table:
        return _sql(compile_known_points(self._known(plan), "events", "points"), events,
                    points)


_LOOKUP_KINDS = frozenset({"count", "sum", "mean", "last", "latest", "min", "max"})


@dataclass(frozen=True, slots=True)
class RunEngines:
    """``plan/run.py``'s ``event_features`` / ``point_features`` with ``engine=``."""

    name: str
    engine: RunEngine
    capabilities: Capabilities

    def event_features(self, plan: ViewPlan, events: pa.Table) -> pa.Table:
        return event_features(plan, events, engine=self.engine)

    def point_features(self, plan: ViewPlan, events: pa.Table, points: pa.Table) -> pa.Table:
        return point_features(plan, events, points, engine=self.engine)


WINDOW = WindowCompiler()
KNOWN_AT = KnownAtCompiler()
LOOKUP = RunEngines("lookup", "lookup", Capabilities(
    kinds=_LOOKUP_KINDS, ratio_kinds=_LOOKUP_KINDS - {"last", "latest"}, known_at=False,
    nonfinite=frozenset({"count", "last", "latest"})))
AUTO = RunEngines("auto", "auto", Capabilities())


# -- cases --------------------------------------------------------------------------

S = 1_000_000
T0 = datetime(2024, 1, 1, tzinfo=UTC)
STAMP = pa.timestamp("us", tz="UTC")
VALUES: tuple[float | None, ...] = (None, 0.0, 1.0, 2.5, -3.0, 7.0)
NONFINITE: tuple[float | None, ...] = (None, 1.0, -3.0, math.nan, math.nan, math.inf,
                                       -math.inf)
KINDS: dict[str, type[Aggregation]] = {
    "count": Count, "sum": Sum, "mean": Mean, "min": Min, "max": Max, "std": Std,
    "last": Last, "distinct": DistinctCount, "latest": Latest}


@dataclass(frozen=True, slots=True)
class Case:
    """One view, its events and points at which to evaluate it."""

    name: str
    view: FeatureView
    events: pa.Table
    points: pa.Table


def _source(*, version: bool = False, known: bool = False) -> Source:
    schema = {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64",
              "u": "float64", "s": "string"}
    if version:
        schema["created"] = "int64"
    if known:
        schema["known"] = "timestamp"
    return Source("events", schema, "ts", id="id", version="created" if version else None,
                  known_at="known" if known else None)


@dataclass(slots=True)
class _Gen:
    """Random events, aggregations and points; times are whole seconds after T0."""

    rng: random.Random
    keys: Sequence[str | None] = ("a", "b")
    span: int = 12  # event times in [0, span]
    values: Sequence[float | None] = VALUES
    versions: bool = False
    known: bool = False
    entity: bool = True

    def source(self) -> Source:
        return _source(version=self.versions, known=self.known)

    def events(self, n: int) -> pa.Table:
        rng = self.rng
        ids = rng.sample(range(1000), n)  # ids need not follow the table order
        times = [rng.randint(0, self.span) for _ in range(n)]
        columns: dict[str, pa.Array] = {
            "id": pa.array(ids, pa.int64()),
            "ts": pa.array([T0 + timedelta(seconds=t) for t in times], STAMP),
            "k": pa.array([rng.choice(self.keys) for _ in range(n)], pa.string()),
            "v": pa.array([rng.choice(self.values) for _ in range(n)], pa.float64()),
            "u": pa.array([rng.choice((None, -1.0, 0.5, 2.0)) for _ in range(n)],
                          pa.float64()),
            "s": pa.array([rng.choice((None, "x", "y")) for _ in range(n)], pa.string()),
        }
        if self.versions:
            columns["created"] = pa.array([rng.choice((None, -1, 0, 3)) for _ in range(n)],
                                          pa.int64())
        if self.known:  # mostly on time, sometimes a little or much later, or early
            lags = [rng.choice((0, 0, -1, 1, 2, 3, 8, 20)) for _ in range(n)]
            columns["known"] = pa.array([T0 + timedelta(seconds=t + lag)
                                         for t, lag in zip(times, lags, strict=True)], STAMP)
        return pa.table(columns)

    def points(self, n: int) -> pa.Table:
        rng = self.rng
        at = [T0 + timedelta(seconds=rng.randint(-2, self.span + 8)) for _ in range(n)]
        columns: dict[str, pa.Array] = {}
        if self.entity:
            columns["k"] = pa.array([rng.choice([*self.keys, "zz"]) for _ in range(n)],
                                    pa.string())
        columns["__at"] = pa.array(at, STAMP)
        columns["__point"] = pa.array(range(n), pa.int64())
        return pa.table(columns)

    def aggregation(self, name: str, kinds: Sequence[str], *, time: bool = True,
                    count: bool = True, delays: Sequence[int] = (0,),
                    wheres: Sequence[str | None] = (None,),
                    columns: Sequence[str] = ("v",)) -> Aggregation:
        rng = self.rng
        kind = rng.choice(kinds)
        shapes = [s for s, ok in (("time", time), ("count", count)) if ok]
        window = window_of(f"{rng.randint(1, 6)}s" if rng.choice(shapes) == "time"
                           else Events(rng.randint(1, 4)))
        column: str | None = rng.choice(columns)
        if kind == "count" and rng.random() < 0.5:
            column = None  # Count(): events, not values
        return KINDS[kind](column, window=window, delay=Duration.parse(f"{rng.choice(delays)}s"),
                           where=rng.choice(wheres), name=name)

    def view(self, features: Sequence[Aggregation | Ratio],
             derive: dict[str, str] | None = None) -> FeatureView:
        entity = Entity("k", ["k"]) if self.entity else None
        return FeatureView("v", entity, self.source(), list(features), derive=derive)


def _cases(name: str, seed: int, cases: int,
           make: Callable[[random.Random, int], Case | tuple[FeatureView, _Gen, int]]
           ) -> Iterator[Case]:
    for i in range(cases):
        rng = random.Random(f"{name}/{seed}/{i}")
        made = make(rng, i)
        label = f"{name}[seed={seed}, case={i}]"
        if isinstance(made, Case):
            yield dataclasses.replace(made, name=label)
        else:
            view, gen, n = made
            yield Case(label, view, gen.events(n), gen.points(rng.randint(1, 12)))


# -- comparing with the reference ---------------------------------------------------

def _same(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if isinstance(want, float) or isinstance(got, float):
        if math.isnan(want) or math.isnan(got):
            return math.isnan(want) and math.isnan(got)
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
    return bool(got == want)


def _has_nonfinite(table: pa.Table) -> bool:
    return any(isinstance(v, float) and not math.isfinite(v)
               for name in ("v", "u") if name in table.column_names
               for v in table.column(name).to_pylist())


def _run(engine: Engine, case: Case, what: str, call: Callable[[], pa.Table],
         lacking: list[str], lenient: bool) -> pa.Table | None:
    """The engine's answer, or None where it rightly refused the case."""
    where = f"{engine.name}: {case.name}: {what}"
    if lacking:
        try:
            call()
        except NotSupportedError:
            return None
        except Exception as e:  # any other error breaks the contract
            raise AssertionError(f"{where} needs {', '.join(lacking)}, which the engine "
                                 f"does not support: expected NotSupportedError, got "
                                 f"{type(e).__name__}: {e}") from e
        raise AssertionError(f"{where} needs {', '.join(lacking)}, which the engine does "
                             "not support, but it gave values: raise NotSupportedError")
    try:
        return call()
    except NotSupportedError as e:
        if lenient:
            return None
        raise AssertionError(f"{where}: NotSupportedError for a case the engine declares "
                             f"it supports ({e})") from e


def check_case(engine: Engine, case: Case) -> None:
    """``engine`` gives the reference's values for ``case``, at every event and at
    every point, or refuses what it does not support with ``NotSupportedError``."""
    plan = plan_view(case.view)
    caps = engine.capabilities
    lacking = caps.lacking(plan)
    lenient = _has_nonfinite(case.events) and caps.may_refuse_nonfinite(plan)
    events = events_of(plan, case.events)
    outputs = [f.output for f in plan.features]

    got = _run(engine, case, "features at events",
               lambda: engine.event_features(plan, case.events),
               lacking or ([] if caps.at_events else ["features at events"]), lenient)
    if got is not None:
        want = features_at_events(plan, events)
        rows = got.to_pylist()
        assert len(rows) == len(want), (
            f"{engine.name}: {case.name}: {len(rows)} rows for {len(want)} events")
        for row in rows:
            expected = want[row["__tie"]]
            for name in outputs:
                assert _same(row[name], expected[name]), (
                    f"{engine.name}: {case.name}: feature {name!r} at event "
                    f"{row['__tie']}: got {row[name]!r}, want {expected[name]!r}")

    got = _run(engine, case, "features at points",
               lambda: engine.point_features(plan, case.events, case.points),
               lacking or ([] if caps.at_points else ["features at points"]), lenient)
    if got is not None:
        points = points_of(plan, case.points)
        want_points = features_at_points(plan, events, points)
        rows = got.to_pylist()
        assert [r["__point"] for r in rows] == list(range(len(points))), (
            f"{engine.name}: {case.name}: one row per point, in __point order")
        for row, (key, at), expected in zip(rows, points, want_points, strict=True):
            for name in outputs:
                assert _same(row[name], expected[name]), (
                    f"{engine.name}: {case.name}: feature {name!r} at point "
                    f"{row['__point']} (key {key!r}, {at - _T0_US} µs after T0): got "
                    f"{row[name]!r}, want {expected[name]!r}")


_T0_US = int(T0.timestamp()) * S


# -- the checks -----------------------------------------------------------------------

def _features(gen: _Gen, n: int, kinds: Sequence[str], **options: Any) -> list[Aggregation]:
    return [gen.aggregation(f"f{i}", kinds, **options) for i in range(n)]


def check_kinds(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """Every aggregation kind, over time and event-count windows."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng)
        kinds = sorted(ALL_KINDS)
        return gen.view(_features(gen, 4, kinds[i % len(kinds):] + kinds)), gen, 15
    for case in _cases("kinds", seed, cases, make):
        check_case(engine, case)


def check_ties(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """Events crowded on few timestamps: ``Last``, ``Latest`` and ``Events(n)``
    follow the id order, and an event sees the tied events up to itself."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng, span=2)
        kinds = ["last", "latest", "sum", "count", "min"]
        return gen.view(_features(gen, 4, kinds)), gen, rng.randint(2, 14)
    for case in _cases("ties", seed, cases, make):
        check_case(engine, case)


def check_delays(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """Delays move the upper bound to t - d, ties at or before it included."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng, span=8)
        kinds = ["count", "sum", "mean", "last", "max"]
        return gen.view(_features(gen, 4, kinds, delays=(0, 1, 2, 4))), gen, 15
    for case in _cases("delays", seed, cases, make):
        check_case(engine, case)


def check_count_windows(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """``Events(n)``: the n latest events at or before t - d, after filters."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng, span=6)
        kinds = ["count", "sum", "mean", "last", "min", "max"]
        return gen.view(_features(gen, 4, kinds, time=False, delays=(0, 1, 3),
                                  wheres=(None, "u > 0"))), gen, 15
    for case in _cases("count_windows", seed, cases, make):
        check_case(engine, case)


def check_filters(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """``where`` keeps the events whose expression is true (null is false), over
    source and derived columns; derived columns may be aggregated."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng)
        kinds = ["count", "sum", "mean", "last", "max"]
        features = _features(gen, 4, kinds, wheres=(None, "u > 0", "w > 1", "v IS NULL"),
                             columns=("v", "w"))
        return gen.view(features, derive={"w": "v * u"}), gen, 15
    for case in _cases("filters", seed, cases, make):
        check_case(engine, case)


def check_empty_windows(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """Few events far apart, points before, between and long after them and on
    entities without events: every kind gives its empty value."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng, span=30, values=(None, 1.0, 2.5))
        features = _features(gen, 5, sorted(ALL_KINDS), delays=(0, 2))
        return gen.view(features), gen, rng.randint(1, 4)
    for case in _cases("empty_windows", seed, cases, make):
        check_case(engine, case)


def check_null_keys(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """Events whose key is null form one entity, at events and at points."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng, keys=("a", None))
        kinds = ["count", "sum", "last", "latest"]
        return gen.view(_features(gen, 3, kinds)), gen, 12
    for case in _cases("null_keys", seed, cases, make):
        check_case(engine, case)


def check_nonfinite(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """NaN and infinities stay in the windows that hold them (as SQL does)."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng, values=NONFINITE)
        return gen.view(_features(gen, 4, sorted(ALL_KINDS))), gen, 12
    for case in _cases("nonfinite", seed, cases, make):
        check_case(engine, case)


def check_versions(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """A version column orders equal event times before the id; null is oldest."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng, span=3, versions=True)
        kinds = ["last", "latest", "sum", "count"]
        return gen.view(_features(gen, 4, kinds, delays=(0, 1))), gen, 14
    for case in _cases("versions", seed, cases, make):
        check_case(engine, case)


def check_known_at(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """Events count only once known; ``Events(n)`` holds the n latest visible."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng, known=True, versions=rng.random() < 0.3)
        kinds = ["count", "sum", "mean", "last", "latest", "max"]
        features = _features(gen, 4, kinds, delays=(0, 1, 3), wheres=(None, "u > 0"))
        return gen.view(features), gen, 14
    for case in _cases("known_at", seed, cases, make):
        check_case(engine, case)


def check_snapshots(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """``Snapshot``: one latest row within the TTL, its edge included or not, nulls
    read or skipped; points fall on the TTL edges (whole seconds)."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng, span=6, versions=rng.random() < 0.5, known=rng.random() < 0.3,
                   entity=rng.random() < 0.8)
        ttl = rng.choice((None, 1, 2, 3))
        view = Snapshot("snap", Entity("k", ["k"]) if gen.entity else None, gen.source(),
                        ["v", "s"], ttl=None if ttl is None else f"{ttl}s",
                        ttl_inclusive=rng.random() < 0.5, nulls=rng.choice(("value", "skip")))
        return view, gen, rng.randint(1, 10)
    for case in _cases("snapshots", seed, cases, make):
        check_case(engine, case)


def check_entityless(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """A view without an entity: every event of the source is one entity's."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng, entity=False, known=rng.random() < 0.3)
        kinds = ["count", "sum", "mean", "last", "latest", "min"]
        return gen.view(_features(gen, 3, kinds, delays=(0, 2))), gen, 14
    for case in _cases("entityless", seed, cases, make):
        check_case(engine, case)


def check_ratios(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """``Ratio``: num / den, ``empty`` where den is 0 or null."""
    def make(rng: random.Random, i: int) -> tuple[FeatureView, _Gen, int]:
        gen = _Gen(rng)
        kinds = ["count", "sum", "mean", "last", "max"]
        ratios = [Ratio(gen.aggregation(f"n{j}", kinds, delays=(0, 1)),
                        gen.aggregation(f"d{j}", kinds, delays=(0, 1)),
                        empty=rng.choice((None, 0.0, -1.0)), name=f"r{j}") for j in range(2)]
        return gen.view(ratios), gen, 14
    for case in _cases("ratios", seed, cases, make):
        check_case(engine, case)


CHECKS: dict[str, Callable[..., None]] = {
    "kinds": check_kinds, "ties": check_ties, "delays": check_delays,
    "count_windows": check_count_windows, "filters": check_filters,
    "empty_windows": check_empty_windows, "null_keys": check_null_keys,
    "nonfinite": check_nonfinite, "versions": check_versions, "known_at": check_known_at,
    "snapshots": check_snapshots, "entityless": check_entityless, "ratios": check_ratios}


def check_engine(engine: Engine, *, seed: int = 0, cases: int = 10) -> None:
    """Every check, in turn."""
    for check in CHECKS.values():
        check(engine, seed=seed, cases=cases)
