"""Online reads at any time: the value the reference gives offline, or a clear refusal.

The online state keeps only the events that windows can still reach from the latest
materialized event on. A read earlier than that must not return a silently wrong
value: each stored entity carries the earliest time its state answers exactly, and a
read before it raises InputError naming the entity, the time and that earliest time.
The property: at every time, each read equals the reference (tests/features/reference.py)
or is refused; it is never refused at or after the latest event, nor for an entity
whose events were all kept.
"""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.core import Count, Entity, Events, FeatureView, Last, Source, Sum
from confluens.errors import InputError
from confluens.plan import plan_view
from confluens.project.online_state import entity_key, online_state, read_online
from tests.features.reference import Event, Spec, feature_at

S = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SOURCE = Source("tx", {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64",
                      "known": "timestamp"}, "ts", id="id", known_at="known")
ENTITY = Entity("k", ["k"])


class MemoryStore:
    """The online store reduced to a dict (reads only; the state is built directly)."""

    def __init__(self, items: dict[str, bytes]) -> None:
        self.items = items

    def read_many(self, requests: list[tuple[str, list[str]]]) -> list[list[bytes | None]]:
        return [[self.items.get(k) for k in keys] for _, keys in requests]


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def stored(raw: list[tuple[str, int, float | None, int]], folder: Path) -> list[str]:
    path = folder / "events.parquet"
    stamp = pa.timestamp("us", tz="UTC")
    pq.write_table(pa.table({
        "id": pa.array(range(len(raw)), pa.int64()),
        "ts": pa.array([EPOCH + timedelta(seconds=t) for _, t, _, _ in raw], stamp),
        "k": [k for k, _, _, _ in raw], "v": pa.array([v for _, _, v, _ in raw], pa.float64()),
        "known": pa.array([EPOCH + timedelta(seconds=t + lag) for _, t, _, lag in raw],
                          stamp)}), path)
    return [str(path)]


def big(e: Event) -> bool:
    return e.value is not None and e.value > 1


FEATURES = {
    "sum": (lambda w, d, **k: Sum("v", window=f"{w}s", delay=f"{d}s", **k),
            lambda w, d, f: Spec("sum", window_us=w * S, delay_us=d * S, where=f)),
    "count": (lambda w, d, **k: Count(window=f"{w}s", delay=f"{d}s", **k),
              lambda w, d, f: Spec("count", window_us=w * S, delay_us=d * S, column=False,
                                   where=f)),
    "last_events": (lambda w, d, **k: Last("v", window=Events(w), delay=f"{d}s", **k),
                    lambda w, d, f: Spec("last", events=w, delay_us=d * S, where=f)),
    "count_events": (lambda w, d, **k: Count(window=Events(w), delay=f"{d}s", **k),
                     lambda w, d, f: Spec("count", events=w, delay_us=d * S, column=False,
                                          where=f)),
}
specs_strategy = st.lists(st.tuples(st.sampled_from(sorted(FEATURES)), st.integers(1, 8),
                                    st.integers(0, 3), st.booleans()), min_size=1, max_size=3)


@settings(max_examples=80, deadline=None)
@given(raw=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 30),
                              st.sampled_from([None, 1.0, 2.5, -3.0]),
                              st.sampled_from([0, 0, 0, 4, 9])), min_size=1, max_size=16),
       specs=specs_strategy)
def test_reads_at_any_time_are_exact_or_refused(raw, specs) -> None:
    features, references = [], {}
    for i, (kind, window, delay, filtered) in enumerate(specs):
        make_feature, make_spec = FEATURES[kind]
        where = {"where": "v > 1"} if filtered else {}
        features.append(make_feature(window, delay, name=f"f{i}", **where))
        references[f"f{i}"] = make_spec(window, delay, big if filtered else None)
    view = FeatureView("v", ENTITY, SOURCE, features)
    with tempfile.TemporaryDirectory() as folder:
        state = online_state(plan_view(view), stored(raw, Path(folder)))
    store = MemoryStore(state)
    events = [Event(k, t * S, i, v, (t + lag) * S) for i, (k, t, v, lag) in enumerate(raw)]
    latest = max(t for _, t, _, _ in raw)
    for key in ("a", "b"):
        if entity_key([key]) not in state:
            continue
        complete = len([e for e in events if e.key == key]) == _kept(state, key)
        for at in range(-3, latest + 12):
            when = EPOCH + timedelta(seconds=at)
            refused: InputError | None = None
            try:
                (values,) = read_online(view, store, [[key]], when)  # type: ignore[arg-type]
            except InputError as error:
                refused = error
            if refused is None:
                point = Event(key, at * S, 2**62, None)
                for name, spec in references.items():
                    want = feature_at(events, point, spec)
                    assert same(values[name], want), (key, at, name, values[name], want)
                continue
            assert at < latest, "reads at or after the latest event are always answered"
            assert not complete, "an entity whose events were all kept answers any time"
            assert refused.got == when.isoformat()
            assert entity_key([key]) in refused.thing
            assert "training_set" in refused.fix


def _kept(state: dict[str, bytes], key: str) -> int:
    from confluens.project.online_state import decode_state

    return len(decode_state(state[entity_key([key])]).t)


def test_a_read_before_the_state_can_answer_names_entity_time_and_fix(tmp_path: Path) -> None:
    """The issue's case: events far apart, a read between them must not give 0."""
    raw = [("a", 0, 47.0, 0), ("a", 1000, 1.0, 0), ("b", 1000, 2.0, 0)]
    view = FeatureView("v", ENTITY, SOURCE, [Sum("v", window="100s", name="f")])
    store = MemoryStore(online_state(plan_view(view), stored(raw, tmp_path)))
    with pytest.raises(InputError) as info:
        read_online(view, store, [["a"]], EPOCH + timedelta(seconds=50))  # type: ignore[arg-type]
    error = info.value
    assert error.thing == "feature view 'v', entity [\"a\"]"
    assert "answers reads from 1970-01-01T00:01:40+00:00 on" in error.rule
    assert error.got == "1970-01-01T00:00:50+00:00"
    (late,) = read_online(view, store, [["a"]], EPOCH + timedelta(seconds=100))  # type: ignore[arg-type]
    assert late == {"f": 0}
    (b,) = read_online(view, store, [["b"]], EPOCH + timedelta(seconds=50))  # type: ignore[arg-type]
    assert b == {"f": 0}, "b lost no event: any time is answered"


def test_unknown_keys_are_flagged(tmp_path: Path) -> None:
    raw = [("a", 0, 1.0, 0)]
    view = FeatureView("v", ENTITY, SOURCE, [Sum("v", window="100s", name="f")])
    store = MemoryStore(online_state(plan_view(view), stored(raw, tmp_path)))
    rows = read_online(view, store, [["a"], ["zz"]], EPOCH + timedelta(seconds=5))  # type: ignore[arg-type]
    assert rows == [{"f": 1.0}, {"f": 0}]
    assert rows.found == [True, False]
    assert rows.missing == [["zz"]]


@settings(max_examples=40, deadline=None)
@given(first=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 30),
                                st.sampled_from([None, 1.0, 2.5]), st.sampled_from([0, 4])),
                      min_size=1, max_size=10),
       second=st.lists(st.tuples(st.sampled_from(["a", "c"]), st.integers(0, 40),
                                 st.sampled_from([None, 1.0, 2.5]), st.sampled_from([0, 4])),
                       min_size=1, max_size=6),
       specs=specs_strategy)
def test_after_an_incremental_update_reads_stay_exact_or_refused(first, second,
                                                                  specs) -> None:
    """As materialize does after new ingests: only the entities that got records are
    rewritten, against the new latest event; the others keep their state and its
    earliest time. Every read is still the reference's value, or refused."""
    features, references = [], {}
    for i, (kind, window, delay, filtered) in enumerate(specs):
        make_feature, make_spec = FEATURES[kind]
        where = {"where": "v > 1"} if filtered else {}
        features.append(make_feature(window, delay, name=f"f{i}", **where))
        references[f"f{i}"] = make_spec(window, delay, big if filtered else None)
    view = FeatureView("v", ENTITY, SOURCE, features)
    plan = plan_view(view)
    raw = first + second
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "1").mkdir()
        (root / "2").mkdir()
        old = stored(first, root / "1")
        new = [str(root / "2" / "events.parquet")]
        # ids continue after the first batch's
        table = pq.read_table(stored(raw, root / "2")[0])
        pq.write_table(table.slice(len(first)), new[0])
        state = online_state(plan, old)
        changed = pa.table({"k": sorted({k for k, _, _, _ in second})})
        state.update(online_state(plan, old + new, entities=changed))
    store = MemoryStore(state)
    events = [Event(k, t * S, i, v, (t + lag) * S) for i, (k, t, v, lag) in enumerate(raw)]
    latest = max(t for _, t, _, _ in raw)
    for key in ("a", "b", "c"):
        if entity_key([key]) not in state:
            continue
        for at in range(-3, latest + 12):
            refused: InputError | None = None
            try:
                (values,) = read_online(view, store, [[key]],  # type: ignore[arg-type]
                                        EPOCH + timedelta(seconds=at))
            except InputError as error:
                refused = error
            if refused is not None:
                assert at < latest
                continue
            point = Event(key, at * S, 2**62, None)
            for name, spec in references.items():
                want = feature_at(events, point, spec)
                assert same(values[name], want), (key, at, name, values[name], want)
