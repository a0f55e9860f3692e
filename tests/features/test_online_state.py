"""The packed online state: round trips, lazy reads, the old-format error, and the
compiled evaluator over packed states equal to the evaluator over ``EntityEvents``."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.core import (
    Count,
    DistinctCount,
    Entity,
    Events,
    FeatureView,
    Last,
    Max,
    Mean,
    Min,
    Ratio,
    Source,
    Std,
    Sum,
)
from confluens.errors import InputError, NotSupportedError, ProjectError
from confluens.plan import plan_view
from confluens.project.online_state import (
    _encode,
    decode_state,
    entity_key,
    read_online,
    read_online_views,
)
from confluens.streaming import EntityEvents, evaluate_all
from confluens.streaming.packed import FORMAT, MAGIC, pack_events, unpack_events

S = 1_000_000
SOURCE = Source("labels", {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64",
                           "n": "int64", "known": "timestamp"}, "ts", id="id", known_at="known")
ENTITY = Entity("k", keys=["k"])


def test_a_state_round_trips_every_type_with_nulls_filters_and_known_at_times() -> None:
    t = [1, 5, 5, 9]
    blob = pack_events(
        t, ["a", "é", "b", ""], [1, 8, 5, 20],
        {"f": ("d", [2.5, None, -0.0, math.inf]), "i": ("q", [3, -(2**63), None, 2**63 - 1]),
         "b": ("?", [True, False, None, True]), "s": ("s", ["x", None, "ü€", ""]),
         "j": ("j", ["2024-01-01 00:00:00+00:00", None, 1, "z"]),
         "full": ("d", [1.0, 2.0, 3.0, 4.0])},
        {"v > 1": [True, False, False, True], "n < 0": [0, 0, 0, 0]})
    assert blob[0] == MAGIC
    assert blob[1] == FORMAT
    ev = unpack_events(blob, "feature view 'v'")
    assert ev.t == (1, 5, 5, 9)
    assert list(ev.known) == [1, 8, 5, 20]
    assert ev.tie == ["a", "é", "b", ""]
    assert list(ev.column("f")) == [2.5, None, -0.0, math.inf]
    assert list(ev.column("i")) == [3, -(2**63), None, 2**63 - 1]
    assert list(ev.column("b")) == [True, False, None, True]
    assert list(ev.column("s")) == ["x", None, "ü€", ""]
    assert list(ev.column("j")) == ["2024-01-01 00:00:00+00:00", None, 1, "z"]
    assert list(ev.column("missing")) == [None] * 4
    assert [ev.has_nulls(c) for c in ("f", "i", "b", "s", "j", "full", "missing")] == [
        True, True, True, True, True, False, True]
    for lo, hi in ((0, 4), (1, 3), (2, 2), (3, 4)):
        for name in ("f", "i", "s", "full", "missing"):
            assert list(ev.values_of(name, lo, hi)) == list(ev.column(name))[lo:hi]
    assert [bool(x) for x in ev.passes("v > 1")] == [True, False, False, True]
    assert [bool(x) for x in ev.passes("n < 0")] == [False] * 4
    assert [bool(x) for x in ev.passes("unknown")] == [False] * 4
    assert ev.unknown_at(19) == (1, 8, 5, 20)
    assert ev.unknown_at(20) is None, "every event is known from the latest known-at on"
    state = decode_state(blob, "v")
    assert state.late
    assert state.t == t
    assert state.known == [1, 8, 5, 20]
    assert state.values["f"][1] is None
    assert state.values["s"][2] == "ü€"
    assert state.flags == [frozenset({"v > 1"}), frozenset(), frozenset(),
                           frozenset({"v > 1"})]


def test_a_state_without_late_events_or_values_is_small_and_reads_as_known() -> None:
    blob = pack_events([3, 4], ["1", "2"], [3, 4], {}, {})
    ev = unpack_events(blob, "x")
    assert ev.unknown_at(0) is None
    assert ev.known == (3, 4)
    assert len(blob) < 100
    empty = unpack_events(pack_events([], [], [], {}, {}), "x")
    assert empty.n == 0
    assert empty.t == ()
    assert decode_state(None) == EntityEvents()


def test_an_old_json_state_asks_to_rematerialize() -> None:
    old = b'{"columns":["v"],"filters":[],"events":[[1,"1",1,[2.0],[]]]}'
    with pytest.raises(ProjectError, match="older JSON format") as info:
        unpack_events(old, "feature view 'spend'")
    assert "feature view 'spend'" in str(info.value)
    assert "confluens materialize" in info.value.fix
    newer = bytes([MAGIC, FORMAT + 1]) + bytes(30)
    with pytest.raises(ProjectError, match=f"format {FORMAT + 1}"):
        unpack_events(newer, "feature view 'spend'")
    with pytest.raises(ProjectError, match="not in a format"):
        unpack_events(b"\x00garbage", "feature view 'spend'")
    with pytest.raises(ProjectError, match="not in a format"):
        unpack_events(b"", "feature view 'spend'")


def view_of(features: list[Any], derive: dict[str, str] | None = None) -> FeatureView:
    return FeatureView("v", ENTITY, SOURCE, features, derive=derive or {})


KINDS = {"count": Count, "sum": Sum, "mean": Mean, "min": Min, "max": Max, "std": Std,
         "last": Last, "distinct": DistinctCount}


def same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)  # type: ignore[arg-type]


@settings(max_examples=80, deadline=None)
@given(raw=st.lists(st.tuples(st.integers(0, 12),
                              st.sampled_from([None, 0.0, 1.0, 2.5, -3.0, 7.0]),
                              st.sampled_from([None, 0, 1, 5]), st.integers(0, 6)),
                    min_size=0, max_size=25),
       at=st.integers(-2, 24),
       specs=st.lists(st.tuples(st.sampled_from([*KINDS, "count_events", "ratio"]),
                                st.sampled_from(["v", "n"]),
                                st.one_of(st.integers(1, 6).map(lambda s: f"{s}s"),
                                          st.integers(1, 4).map(Events)),
                                st.integers(0, 4), st.booleans()),
                      min_size=1, max_size=6))
def test_packed_states_evaluate_like_entity_events(raw, at, specs) -> None:
    """The same events, packed or as EntityEvents, give the same features."""
    features: list[Any] = []
    for i, (kind, column, window, delay, filtered) in enumerate(specs):
        where = "v > 1" if filtered else None
        args = {"window": window, "delay": f"{delay}s", "where": where, "name": f"f{i}"}
        if kind == "count_events":
            features.append(Count(**args))
        elif kind == "ratio":
            features.append(Ratio(Sum(column, window=window, delay=f"{delay}s"),
                                  Count(window=window, delay=f"{delay}s"), empty=-1.0,
                                  name=f"f{i}"))
        else:
            features.append(KINDS[kind](column, **args))
    plan = plan_view(view_of(features))
    ordered = sorted(enumerate(raw), key=lambda e: (e[1][0], e[0]))
    rows = [(t * S, f"{i:09d}", (t + lag) * S, {"v": v, "n": n},
             ("v > 1",) if v is not None and v > 1 else ())
            for i, (t, v, n, lag) in ordered]
    reference = evaluate_all(plan, EntityEvents.of(rows), at * S)
    blob = pack_events([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                       {"v": ("d", [r[3]["v"] for r in rows]),
                        "n": ("q", [r[3]["n"] for r in rows])},
                       {"v > 1": [bool(r[4]) for r in rows]})
    packed = evaluate_all(plan, unpack_events(blob, "v"), at * S)
    decoded = evaluate_all(plan, decode_state(blob, "v"), at * S)
    assert list(packed) == list(reference) == list(decoded)
    for name, want in reference.items():
        assert same(packed[name], want), (name, packed[name], want)
        assert same(decoded[name], want), (name, decoded[name], want)
        assert type(packed[name]) is type(want) or want is None, name


class FakeStore:
    def __init__(self, items: dict[tuple[str, str], bytes]) -> None:
        self.items = items
        self.calls = 0

    def read(self, view: str, keys: list[str]) -> list[bytes | None]:
        return self.read_many([(view, keys)])[0]

    def read_many(self, requests: list[tuple[str, list[str]]]) -> list[list[bytes | None]]:
        self.calls += 1
        return [[self.items.get((view, k)) for k in keys] for view, keys in requests]


def test_encoded_rows_read_back_at_read_time() -> None:
    """From the prepared rows (ordered by entity, then time) to values at a read."""
    view = view_of([Count(window="10s", name="n10"), Sum("v", window="10s", name="s10"),
                    Last("v", window=Events(1), name="last"),
                    Last("flag", window=Events(1), name="flag"),
                    Last("label", window=Events(1), name="label"),
                    Last("when", window=Events(1), name="when"),
                    Count(window="10s", where="v > 1", name="big")],
                   derive={"flag": "v > 1", "label": "k || '!'", "when": "ts"})
    plan = plan_view(view)
    stamp = pa.timestamp("us", tz="UTC")
    rows = pa.table({
        "k": ["a", "a", "a", "b"],
        "__t": [1 * S, 2 * S, 5 * S, 3 * S], "__tie": ["1", "2", "3", "4"],
        "__tie_order": [1, 2, 3, 4], "__k": [1 * S, 9 * S, 5 * S, 3 * S],
        "v": pa.array([2.0, None, 0.5, 4.0]), "flag": [True, None, False, True],
        "label": ["a!", "a!", None, "b!"],
        "when": pa.array([datetime(2024, 1, 1, tzinfo=UTC)] * 4, stamp),
        "__f0": [True, False, False, True]})
    state = _encode(plan, rows)
    assert sorted(state) == [entity_key(["a"]), entity_key(["b"])]
    store = FakeStore({("v", k): v for k, v in state.items()})
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    at5 = epoch + timedelta(seconds=5)
    a, b, missing = read_online(view, store, [["a"], ["b"], ["zz"]], at5)  # type: ignore[arg-type]
    assert a == {"n10": 2, "s10": 2.5, "last": 0.5, "flag": False, "label": None,
                 "when": "2024-01-01 00:00:00+00:00", "big": 1}, "event 2 is not known at 5s"
    assert b["n10"] == 1
    assert b["s10"] == 4.0
    assert b["label"] == "b!"
    assert b["flag"] is True
    assert missing == {"n10": 0, "s10": 0, "last": None, "flag": None, "label": None,
                       "when": None, "big": 0}
    later = read_online(view, store, [["a"]], epoch + timedelta(seconds=9))[0]  # type: ignore[arg-type]
    assert later["n10"] == 3
    assert later["s10"] == 2.5
    gone = read_online(view, store, [["a"]], epoch + timedelta(seconds=30))[0]  # type: ignore[arg-type]
    assert gone["n10"] == 0
    assert gone["s10"] == 0
    assert gone["last"] == 0.5
    store.calls = 0
    both = read_online_views([(view, [["a"]]), (view, [["b"], ["a"]])], store,  # type: ignore[arg-type]
                             at5)
    assert both == [[a], [b, a]]
    assert store.calls == 1, "one store round trip"
    with pytest.raises(InputError, match="time zone"):
        read_online(view, store, [["a"]], datetime(2024, 1, 1))  # type: ignore[arg-type]


NAN, INF = math.nan, math.inf
NONFINITE_CASES = [  # values in a window: sum, mean, min, max, distinct, std (as SQL)
    ([1.0, float("nan"), 3.0], (NAN, NAN, 1.0, NAN, 3, NAN)),
    ([1.0, float("nan"), float("nan")], (NAN, NAN, 1.0, NAN, 2, NAN)),
    ([float("nan"), float("nan")], (NAN, NAN, NAN, NAN, 1, NAN)),
    ([INF, -INF, 2.0], (NAN, NAN, -INF, INF, 3, NAN)),
    ([INF, 2.0], (INF, INF, 2.0, INF, 2, NAN)),
    ([-INF, float("nan"), 0.5], (NAN, NAN, -INF, NAN, 3, NAN)),
]


def _is(got: object, want: object) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return got == want and type(got) is type(want)


@pytest.mark.parametrize(("values", "want"), NONFINITE_CASES)
def test_nan_and_infinities_give_the_sql_values_in_every_order(values, want) -> None:
    """As the reference (and DuckDB): sums with both infinities are NaN (not an error);
    NaN is the greatest value for min and max wherever it is; NaNs are one distinct
    value. Over EntityEvents and packed states, for every order of the events."""
    kinds = ("sum", "mean", "min", "max", "distinct", "std")
    plan = plan_view(view_of([KINDS[k]("v", window="100s", name=k) for k in kinds]))
    for order in itertools.permutations(values):
        rows = [(i * S, f"{i:09d}", i * S, {"v": v}, ()) for i, v in enumerate(order)]
        blob = pack_events([r[0] for r in rows], [r[1] for r in rows],
                           [r[2] for r in rows], {"v": ("d", list(order))}, {})
        for events in (EntityEvents.of(rows), unpack_events(blob, "v")):
            got = evaluate_all(plan, events, 50 * S)
            assert all(_is(got[k], w) for k, w in zip(kinds, want, strict=True)), (
                order, got)


def test_a_kind_the_evaluator_lacks_is_refused_naming_kind_view_and_feature(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a ValueError or KeyError: NotSupportedError, as every engine refuses a kind,
    naming the engines that evaluate it (``plan.ir.require``)."""
    from confluens.plan.ir import Kind
    from confluens.streaming import window_events

    monkeypatch.delitem(window_events._FUNCTIONS, Kind.STD)
    plan = plan_view(view_of([Count(window="1s"), Std("v", window="5s", name="spread")]))
    with pytest.raises(NotSupportedError, match="'std'") as info:
        evaluate_all(plan, EntityEvents.of([(0, "1", 0, {"v": 1.0}, ())]), S)
    assert "feature view 'v' feature 'spread'" in str(info.value)
    assert "the python engine does not evaluate" in str(info.value)
    assert "(the known-at, window engines do)" in str(info.value)
