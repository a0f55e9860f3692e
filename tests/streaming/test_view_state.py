"""A stream processor's window state (``ViewState``), by its properties.

On random views (every kind, time and event-count windows, delays, filters, derived
columns, known-at times, versions, snapshots, views without an entity) and random
events arriving out of order in random micro-batches, each pruned and written at the
running watermark:

- every read at or after the watermark equals the reference (``plan/reference.py``);
  every earlier read equals it or is refused (``InputError``), and an entity that
  lost no event is never refused;
- replaying batches (events already held, or already left out) changes nothing;
- the values after one big batch are byte for byte those after many small batches,
  in any arrival order;
- they are byte for byte what ``confluens materialize`` writes for the same events
  (``project/online_state.online_state``, DuckDB) at the same horizon: the same kept
  events, and the same envelope: earliest exact read time, latest left-out time and
  horizon; also when the processor starts from a materialized state and then gets the
  remaining events (late ones and replays included).
"""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.core import Count, Entity, Events, FeatureView, Last, Max, Source, Sum
from confluens.errors import InputError, ProjectError, SchemaMismatchError
from confluens.plan import reference
from confluens.plan.ir import ViewPlan, plan_view
from confluens.project.online_state import online_state
from confluens.streaming.entity_state import LIVE_BYTES, ViewState
from confluens.streaming.packed import unpack_events
from confluens.streaming.stored_state import decode_state, entity_key, open_state
from confluens.streaming.window_events import compile_plan, evaluate_compiled
from tests.streaming.cases import T0_US, Drawn, S, drawn


def times_of(events: pa.Table, plan: ViewPlan) -> list[int]:
    column = events.column(plan.event_time).cast(pa.timestamp("us", tz="UTC"))
    return column.cast(pa.int64()).to_pylist()


def feed(state: ViewState, store: dict[str, bytes], batch: pa.Table,
         watermark: int) -> set[str]:
    """What a processor does with one micro-batch: load, merge, write."""
    for key in state.missing(state.keys_of(batch)):
        state.load(key, store.get(key))
    touched = state.add(batch)
    store.update(state.blobs(touched, watermark))
    return touched


def streamed(case: Drawn, order: list[int], sizes: list[int], *,
             replay: bool = False, store: dict[str, bytes] | None = None,
             live: int = LIVE_BYTES) -> tuple[dict[str, bytes], int]:
    """The values after ``order``'s events arrive in batches of ``sizes`` (cycled),
    each written at the running watermark, then every entity written at the last
    (with about ``live`` bytes of entities kept unpacked between batches)."""
    state = ViewState(case.plan, live_bytes=live)
    store = dict(store or {})
    times = times_of(case.events, case.plan)
    watermark: int | None = None  # the processor's own: ViewState keeps the stored ones
    at = 0
    for i in range(len(order)):
        if at >= len(order):
            break
        size = sizes[i % len(sizes)] if sizes else len(order)
        arrived = order[at:at + size]
        at += size
        batch = case.events.take(arrived)
        latest = max(times[j] for j in arrived)
        watermark = latest if watermark is None else max(watermark, latest)
        feed(state, store, batch, watermark)
        if replay:
            feed(state, store, batch, watermark)
    assert watermark is not None
    keys = list(store)
    for key in state.missing(keys):
        state.load(key, store[key])
    store.update(state.blobs(keys, watermark))
    return store, watermark


def materialized(case: Drawn, rows: list[int] | None = None) -> dict[str, bytes]:
    """``confluens materialize``'s values for the events (of ``rows``)."""
    events = case.events if rows is None else case.events.take(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.parquet"
        pq.write_table(events, path)
        return online_state(case.plan, [str(path)])


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def described(blob: bytes) -> tuple[Any, ...]:
    """A value's envelope and events, for a readable failure."""
    state = open_state(blob, "v")
    ev = decode_state(blob)
    return (state.earliest, state.left_out, state.horizon, ev.t, ev.tie, ev.known,
            ev.values, unpack_events(state.packed, "v").versions)


def assert_same_values(got: dict[str, bytes], want: dict[str, bytes]) -> None:
    assert sorted(got) == sorted(want)
    for key, blob in want.items():
        assert described(got[key]) == described(blob), key
        assert got[key] == blob, key


arrivals = st.data()


def kept_unpacked(data: st.DataObject) -> int:
    """What a view's entities kept unpacked between batches may cost: nothing, a few
    entities' worth (entities come and go), or the default."""
    return int(data.draw(st.sampled_from([0, 2_000, 5_000, LIVE_BYTES]), label="live bytes"))


def arrival(data: st.DataObject, n: int) -> tuple[list[int], list[int]]:
    order = data.draw(st.permutations(range(n)), label="arrival order")
    sizes = data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=6), label="batch sizes")
    return list(order), sizes


@settings(max_examples=120, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 16), data=arrivals)
def test_reads_equal_the_reference_or_are_refused(seed: int, n: int, data: Any) -> None:
    case = drawn(seed, n)
    order, sizes = arrival(data, n)
    store, watermark = streamed(case, order, sizes)
    events = reference.events_of(case.plan, case.events)
    compiled = compile_plan(case.plan)
    keys = {e.key for e in events}
    for key in [*keys, ("zz",) if case.plan.keys else ()]:
        blob = store.get(entity_key(list(key)))
        lost = blob is not None and len(decode_state(blob).t) < sum(e.key == key
                                                                    for e in events)
        for at in [*range(T0_US - 3 * S, watermark, S), watermark, watermark + 1,
                   watermark + S, watermark + 4 * S, watermark + 40 * S]:
            (want,) = reference.features_at_points(case.plan, events, [(key, at)])
            if blob is None:
                assert key not in keys
                got = evaluate_compiled(compiled, decode_state(None), at)
            else:
                state = open_state(blob, "v")
                if at < state.earliest:
                    assert at < watermark, "reads at or after the watermark are answered"
                    assert lost, "an entity that lost no event answers any time"
                    continue
                got = evaluate_compiled(compiled, unpack_events(state.packed, "v"), at)
            for name, value in want.items():
                assert same(got[name], value), (key, at - T0_US, name, got[name], value)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 16), data=arrivals)
def test_one_batch_many_batches_replays_and_materialize_agree(seed: int, n: int,
                                                               data: Any) -> None:
    case = drawn(seed, n)
    order, sizes = arrival(data, n)
    live = kept_unpacked(data)
    once, horizon = streamed(case, list(range(n)), [])
    assert horizon == max(times_of(case.events, case.plan))
    assert_same_values(streamed(case, order, sizes, live=live)[0], once)
    assert_same_values(streamed(case, order, sizes, replay=True, live=live)[0], once)
    # every event again, in another order: those held are skipped, those left out are
    # left out again
    again, _ = streamed(case, order[::-1], sizes, store=once, live=live)
    assert_same_values(again, once)
    assert_same_values(once, materialized(case))


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(2, 16), data=arrivals)
def test_a_processor_continues_a_materialized_state(seed: int, n: int, data: Any) -> None:
    """Materialize a part of the events, then stream the rest (and some of the part
    again) in any order: the values are those of one materialize of all of them."""
    case = drawn(seed, n)
    order, sizes = arrival(data, n)
    cut = data.draw(st.integers(1, n - 1), label="materialized")
    replayed = data.draw(st.integers(0, cut), label="replayed")
    start = materialized(case, order[:cut])
    got, _ = streamed(case, order[cut - replayed:], sizes, store=start,
                      live=kept_unpacked(data))
    assert_same_values(got, materialized(case))


# -- worked examples ------------------------------------------------------------------

TX = Source("tx", {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64",
                   "day": "date"}, "ts", id="id")


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def tx(ids: list[int], seconds: list[int], values: list[float | None] | None = None,
       key: str = "a") -> pa.Table:
    return pa.table({
        "id": pa.array(ids, pa.int64()), "ts": pa.array([at(s) for s in seconds],
                                                        pa.timestamp("us", tz="UTC")),
        "k": [key] * len(ids), "v": pa.array(values or [1.0] * len(ids), pa.float64()),
        "day": pa.array([at(s).date() for s in seconds], pa.date32())})


def test_integer_ids_order_ties_as_integers_also_for_late_events() -> None:
    plan = plan_view(FeatureView("v", Entity("k", ["k"]), TX,
                                 [Last("v", window=Events(1), name="last")]))
    state = ViewState(plan)
    state.load('["a"]', None)
    state.add(tx([10], [5], [10.0]))
    state.add(tx([9, 100], [5, 5], [9.0, 100.0]))  # "100" < "9" as text
    blob = state.blobs(['["a"]'], 5 * S)['["a"]']
    assert decode_state(blob).tie == ["100"], "the latest of the three ties is id 100"
    state.add(tx([2], [5], [2.0]))  # late, behind what is kept: left out at once
    assert state.blobs(['["a"]'], 5 * S)['["a"]'] == blob


def test_timestamp_and_date_values_are_written_as_materialize_writes_them() -> None:
    plan = plan_view(FeatureView("v", Entity("k", ["k"]), TX, [
        Max("ts", window="1h", name="latest_ts"), Last("day", window=Events(2), name="d"),
        Sum("v", window="10s", where="v > 1", name="big")]))
    events = tx([1, 2, 3], [100, 50, 70], [2.0, None, 0.5])
    state = ViewState(plan)
    state.load('["a"]', None)
    state.add(events.slice(0, 1))
    state.add(events.slice(1))
    got = state.blobs(['["a"]'], 100 * S)
    assert_same_values(got, materialized(Drawn(plan, events)))
    values = decode_state(got['["a"]']).values
    assert values["ts"][-1] == "1970-01-01 00:01:40+00:00"
    assert values["day"] == ["1970-01-01"] * 3


def test_reads_before_the_earliest_exact_time_are_refused() -> None:
    """Events far apart: the old one is left out, so a read between them is refused;
    the stored value keeps the left-out time for the next prune."""
    plan = plan_view(FeatureView("v", Entity("k", ["k"]), TX, [Sum("v", window="100s")]))
    state = ViewState(plan)
    state.load('["a"]', None)
    state.add(tx([1, 2], [0, 1000], [47.0, 1.0]))
    blob = state.blobs(['["a"]'], 1000 * S)['["a"]']
    stored = open_state(blob, "v")
    assert (stored.earliest, stored.left_out, stored.horizon) == (100 * S, 0, 1000 * S)
    from confluens.streaming.conformance import _read
    with pytest.raises(InputError, match="answers reads from"):
        _read(compile_plan(plan), blob, 50 * S, "feature view 'v'")
    assert _read(compile_plan(plan), blob, 100 * S, "v") == {"v_sum_100s": 0}


def test_the_processor_says_what_it_needs() -> None:
    plan = plan_view(FeatureView("v", Entity("k", ["k"]), TX, [Count(window="1s")]))
    state = ViewState(plan)
    with pytest.raises(InputError, match="must be loaded") as info:
        state.add(tx([1], [0]))
    assert info.value.got == ['["a"]']
    for call in (state.add, state.keys_of):
        with pytest.raises(SchemaMismatchError, match="every column") as lacking:
            call(tx([1], [0]).drop_columns(["v"]))
        assert lacking.value.got == ["v"]
    with pytest.raises(InputError, match="is not held"):
        state.blobs(['["b"]'], 0)
    state.load('["a"]', None)
    assert state.blobs(['["a"]'], 0) == {}, "no event, nothing to write"
    assert state.missing(['["a"]', '["b"]', '["b"]']) == ['["b"]']
    state.add(tx([1], [0]))
    with pytest.raises(InputError, match="not written yet"):
        state.load('["a"]', None)
    with pytest.raises(InputError, match="not written yet"):
        state.forget(['["a"]'])
    with pytest.raises(InputError, match="is not held"):  # before writing any
        state.blobs(['["a"]', '["b"]'], 0)
    blob = state.blobs(['["a"]'], 0)['["a"]']
    assert decode_state(blob).t == [0], "the refused call lost no event"
    state.forget(['["a"]'])
    assert state.missing(['["a"]']) == ['["a"]']
    assert len(state) == 0
    with pytest.raises(ProjectError, match="earlier release"):
        state.load('["a"]', b"\xe1" + blob[1:])
    state.load('["a"]', blob)
    no_id = pa.table({"id": pa.array([None], pa.int64()), "ts": [at(0)], "k": ["a"],
                      "v": [1.0], "day": [at(0).date()]})
    with pytest.raises(InputError, match="'id' must not be null"):
        state.add(no_id)
