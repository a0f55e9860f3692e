"""Every engine passes the shipped conformance suite (``confluens.plan.conformance``).

One parametrised run per (engine, check) on fixed seeds, and a hypothesis run per
engine on drawn seeds and checks. Known disagreements with the reference are listed
in ``KNOWN_GAPS`` as strict xfails: they fail today, and the test says so when fixed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from confluens.core import Count, Entity, Events, FeatureView, Source, Sum
from confluens.errors import NotSupportedError
from confluens.plan import conformance, reference
from confluens.plan.conformance import (
    AUTO,
    CHECKS,
    KNOWN_AT,
    LOOKUP,
    WINDOW,
    Capabilities,
    Case,
    Engine,
    check_case,
    check_kinds,
    check_known_at,
    check_ratios,
    check_ties,
)
from confluens.plan.duckdb import compile_events, compile_points
from confluens.plan.ir import ViewPlan, plan_view
from confluens.streaming.conformance import PYTHON

ENGINES: list[Engine] = [WINDOW, KNOWN_AT, LOOKUP, AUTO, PYTHON]

# (engine, check): why it disagrees with the reference today
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def _params() -> list:
    out = []
    for engine in ENGINES:
        for name in CHECKS:
            gap = KNOWN_GAPS.get((engine.name, name))
            marks = [pytest.mark.xfail(reason=gap, raises=(AssertionError, ValueError))] \
                if gap else []
            out.append(pytest.param(engine, name, marks=marks, id=f"{engine.name}-{name}"))
    return out


@pytest.mark.parametrize(("engine", "check"), _params())
def test_engine_passes_the_check(engine: Engine, check: str) -> None:
    CHECKS[check](engine, cases=3)


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(1, 2**31), check=st.sampled_from(sorted(CHECKS)))
def test_engine_passes_the_checks_on_drawn_seeds(engine: Engine, seed: int,
                                                 check: str) -> None:
    assume((engine.name, check) not in KNOWN_GAPS)
    CHECKS[check](engine, seed=seed, cases=1)


# -- the suite catches what it should ---------------------------------------------------

@dataclass(frozen=True)
class Shifted:
    """The window compiler, with every count one too high: a wrong engine."""

    name: str = "shifted"
    capabilities: Capabilities = field(default_factory=Capabilities)

    def event_features(self, plan: ViewPlan, events: pa.Table) -> pa.Table:
        return self._shift(plan, KNOWN_AT.event_features(plan, events))

    def point_features(self, plan: ViewPlan, events: pa.Table, points: pa.Table) -> pa.Table:
        return self._shift(plan, KNOWN_AT.point_features(plan, events, points))

    @staticmethod
    def _shift(plan: ViewPlan, table: pa.Table) -> pa.Table:
        for a in plan.aggregations:
            if a.kind == "count" and a.output in table.column_names:
                i = table.column_names.index(a.output)
                table = table.set_column(i, a.output, pc.add(table.column(i), 1))
        return table


def test_a_wrong_value_fails_the_check_and_names_the_case() -> None:
    with pytest.raises(AssertionError, match=r"shifted: kinds\[seed=0, case=\d\]: feature"):
        check_kinds(Shifted())


@dataclass(frozen=True)
class Careless:
    """Declares no ``last`` but computes it, or fails with a KeyError."""

    fail: type[Exception] | None
    name: str = "careless"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(
        kinds=conformance.ALL_KINDS - {"last"}, ratio_kinds=conformance.ALL_KINDS - {"last"}))

    def _run(self, plan: ViewPlan) -> None:
        if self.fail is not None and any(a.kind == "last" for a in plan.aggregations):
            raise (self.fail("engine", "no last") if self.fail is NotSupportedError
                   else self.fail("last"))

    def event_features(self, plan: ViewPlan, events: pa.Table) -> pa.Table:
        self._run(plan)
        return WINDOW.event_features(plan, events)

    def point_features(self, plan: ViewPlan, events: pa.Table, points: pa.Table) -> pa.Table:
        self._run(plan)
        return WINDOW.point_features(plan, events, points)


def test_an_unsupported_case_must_raise_not_supported_error() -> None:
    with pytest.raises(AssertionError, match="expected NotSupportedError, got KeyError"):
        check_ties(Careless(KeyError))
    with pytest.raises(AssertionError, match=r"needs kind 'last'.*but it gave values"):
        check_ties(Careless(None))
    check_ties(Careless(NotSupportedError))  # refusing what it lacks is right
    with pytest.raises(AssertionError, match="NotSupportedError for a case the engine "
                       "declares it supports"):
        check_ties(dataclasses.replace(Careless(NotSupportedError),
                                       capabilities=Capabilities()))


def test_the_lookup_engine_refuses_ratios_of_last_and_known_at_sources() -> None:
    """Its capabilities are what ``plan/lookup.py`` supports: the checks that reach
    beyond them pass only because it raises NotSupportedError there."""
    assert "a known-at time" in LOOKUP.capabilities.lacking(plan_view(FeatureView(
        "v", Entity("k", ["k"]), conformance._source(known=True), [Count(window="1s")])))
    check_ratios(LOOKUP, cases=10)  # some draw 'last' parts


def test_the_window_compiler_refuses_a_known_at_time_instead_of_ignoring_it() -> None:
    """``compile_events``/``compile_points`` count events from their event time: on a
    known-at source they refuse, naming the view and the compiler that handles it
    (the conformance adapter relies on this: it no longer checks on its own)."""
    plan = plan_view(FeatureView("late", Entity("k", ["k"]), conformance._source(known=True),
                                 [Count(window="1s")]))
    for compile_ in (compile_events, compile_points):
        with pytest.raises(NotSupportedError, match="does not read a known-at time") as info:
            compile_(plan)
        assert "feature view 'late'" in str(info.value)
        assert "known-at compiler" in info.value.fix
    with pytest.raises(NotSupportedError, match="feature view 'late'"):
        WINDOW.point_features(plan, pa.table({}), pa.table({}))
    check_known_at(WINDOW, cases=3)  # refusing is what the check expects of it
    compile_events(dataclasses.replace(plan, known_at=None))  # without one, it compiles


# -- the reference on the worked examples of docs/concepts.md ---------------------------

S = 1_000_000
SOURCE = Source("tx", {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64",
                       "known": "timestamp"}, "ts", id="id", known_at="known")


def test_the_reference_takes_the_latest_visible_events_in_a_count_window() -> None:
    """Events(2): events at 1..5, the one at 2 known at 9 and the one at 4 at 8."""
    plan = plan_view(FeatureView("v", Entity("k", ["k"]), SOURCE,
                                 [Sum("v", window=Events(2), name="s2")]))
    known = {1: 1, 2: 9, 3: 3, 4: 8, 5: 5}
    events = [reference.Event(("a",), t * S, t, {"v": float(t)}, known[t] * S)
              for t in known]
    at = [(("a",), t * S) for t in (3, 5, 8, 9)]
    assert [r["s2"] for r in reference.features_at_points(plan, events, at)] == [
        4.0, 8.0, 9.0, 9.0]


def test_the_reference_keeps_nan_and_infinity_as_sql_does() -> None:
    plan = plan_view(FeatureView("v", Entity("k", ["k"]), SOURCE, [
        conformance.KINDS[k]("v", window="10s", name=k)
        for k in ("sum", "min", "max", "distinct", "std")]))
    values = [1.0, math.nan, math.nan, math.inf]
    events = [reference.Event(("a",), i * S, i, {"v": v}) for i, v in enumerate(values)]
    (got,) = reference.features_at_points(plan, events, [(("a",), 5 * S)])
    assert [math.isnan(got[k]) for k in ("sum", "max", "std")] == [True] * 3
    assert (got["min"], got["distinct"]) == (1.0, 3)


def test_a_case_reproduces_from_its_seed() -> None:
    tables: list[pa.Table] = []

    @dataclass(frozen=True)
    class Recorder:
        name: str = "recorder"
        capabilities: Capabilities = field(default_factory=Capabilities)

        def event_features(self, plan: ViewPlan, events: pa.Table) -> pa.Table:
            tables.append(events)
            return WINDOW.event_features(plan, events)

        def point_features(self, plan: ViewPlan, events: pa.Table,
                           points: pa.Table) -> pa.Table:
            return WINDOW.point_features(plan, events, points)

    check_ties(Recorder(), seed=7, cases=2)
    check_ties(Recorder(), seed=7, cases=2)
    assert tables[:2] == tables[2:]
    check_case(WINDOW, Case("single", FeatureView("v", None, conformance._source(),
                                                   [Count(window="1s")]),
                            pa.table({"id": pa.array([1], pa.int64()),
                                      "ts": pa.array([conformance.T0], conformance.STAMP),
                                      "k": ["a"], "v": [1.0], "u": [1.0], "s": ["x"]}),
                            pa.table({"__at": pa.array([conformance.T0], conformance.STAMP),
                                      "__point": pa.array([0], pa.int64())})))
