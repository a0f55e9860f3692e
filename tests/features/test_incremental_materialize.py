"""Incremental materialize: updating the feature table after new ingests gives exactly
the table a full rebuild gives, while recomputing only the region that can change."""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import confluens
from confluens.core import (
    Count,
    Entity,
    Events,
    FeatureView,
    Last,
    Max,
    Mean,
    Source,
    Std,
    Sum,
)
from confluens.datagen import FraudSimulation, write_fraud_dataset
from confluens.plan import event_features, plan_view
from confluens.project.feature_table import Region, changed_entities, update_region
from confluens.stores.offline import ParquetOfflineStore

SOURCE = Source("ev", {"id": "int64", "ts": "timestamp", "k": "string", "v": "float64"}, "ts",
                id="id")
ENTITY = Entity("k", keys=["k"])
BASE = datetime(2024, 1, 1, tzinfo=UTC)
VIEWS = {
    "time": FeatureView("v", ENTITY, SOURCE, [
        Count(window="2d"), Sum("v", window="1d", delay="1d"), Max("v", window="3d"),
        Std("v", window="3d")]),  # a Std: the window compiler computes this view
    "events": FeatureView("v", ENTITY, SOURCE, [
        Count(window=Events(2)), Last("v", window=Events(3), where="v > 1", name="last_big"),
        Mean("v", window="2d")]),
}


def _same(a: list[tuple], b: list[tuple]) -> bool:
    """Equal rows; floats within rounding (two runs may sum in different orders)."""
    def one(x: object, y: object) -> bool:
        if isinstance(x, float) and isinstance(y, float):
            return math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)
        return x == y

    return len(a) == len(b) and all(len(r) == len(q) and all(map(one, r, q))
                                    for r, q in zip(a, b, strict=True))


def _rows(table: pa.Table) -> list[tuple]:
    frame = table.to_pandas().sort_values(["k", "ts", "__tie"]).reset_index(drop=True)
    return [tuple(None if pd.isna(x) else x for x in row)
            for row in frame.itertuples(index=False)]


batches_strategy = st.lists(
    st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 240),
                       st.sampled_from([None, 0.5, 2.0, 3.0])), min_size=1, max_size=12),
    min_size=2, max_size=4)


@settings(max_examples=40, deadline=None)
@given(batches=batches_strategy, kind=st.sampled_from(sorted(VIEWS)))
def test_updating_after_each_batch_equals_a_full_rebuild(batches, kind) -> None:
    """Batches arrive in any time order (late records included), a few hours apart."""
    plan = plan_view(VIEWS[kind])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = ParquetOfflineStore(root / "features")
        files: list[str] = []
        next_id = 0
        for n, batch in enumerate(batches):
            table = pa.table({
                "id": pa.array(range(next_id, next_id + len(batch)), pa.int64()),
                "ts": pa.array([BASE + timedelta(hours=h) for _, h, _ in batch],
                               pa.timestamp("us", tz="UTC")),
                "k": [k for k, _, _ in batch],
                "v": pa.array([v for _, _, v in batch], pa.float64())})
            next_id += len(batch)
            path = root / f"batch{n}.parquet"
            pq.write_table(table, path)
            files.append(str(path))
            if n == 0:
                store.replace("v", event_features(plan, files), run_id="r0", partition_by="ts")
                continue
            changed = changed_entities(plan, [str(path)])
            done = update_region(plan, Region(entities=changed), files, store, "v", f"r{n}")
            assert len(batch) <= done <= store.row_count("v")
        stored = pa.concat_tables(pq.read_table(f) for f in store.files("v"))
        assert stored.num_rows == next_id
        assert _same(_rows(stored.select(_rows_columns(plan))), _rows(
            event_features(plan, files).select(_rows_columns(plan))))


def _rows_columns(plan) -> list[str]:
    return ["k", "ts", "__tie", *[f.output for f in plan.features]]


@settings(max_examples=25, deadline=None)
@given(events=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 240),
                                 st.sampled_from([None, 0.5, 2.0])), min_size=1, max_size=20),
       start=st.integers(-10, 250), length=st.integers(1, 120),
       kind=st.sampled_from(sorted(VIEWS)))
def test_a_range_rebuild_recomputes_exactly_that_range(events, start, length, kind) -> None:
    """Both engines: "time" has a Std (window compiler), "events" takes the lookup engine."""
    plan = plan_view(VIEWS[kind])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        table = pa.table({
            "id": pa.array(range(len(events)), pa.int64()),
            "ts": pa.array([BASE + timedelta(hours=h) for _, h, _ in events],
                           pa.timestamp("us", tz="UTC")),
            "k": [k for k, _, _ in events], "v": pa.array([v for *_, v in events], pa.float64())})
        pq.write_table(table, root / "all.parquet")
        files = [str(root / "all.parquet")]
        store = ParquetOfflineStore(root / "features")
        full = event_features(plan, files)
        store.replace("v", full, run_id="r0", partition_by="ts")
        lo, hi = BASE + timedelta(hours=start), BASE + timedelta(hours=start + length)
        done = update_region(plan, Region(start=lo, end=hi), files, store, "v", "r1")
        assert done == sum(lo <= BASE + timedelta(hours=h) < hi for _, h, _ in events)
        stored = pa.concat_tables(pq.read_table(f) for f in store.files("v"))
        assert _same(_rows(stored.select(_rows_columns(plan))), _rows(
            full.select(_rows_columns(plan))))


def test_materialize_after_new_ingests_is_incremental(tmp_path: Path) -> None:
    root = confluens.init(tmp_path / "fraud")
    write_fraud_dataset(root / "data", FraudSimulation(n_customers=40, n_terminals=60,
                                                      n_days=30))
    tx = pd.read_parquet(root / "data" / "transactions" / "transactions.parquet")
    cut = tx["tx_datetime"].sort_values().iloc[len(tx) * 3 // 4]
    early, late = tx[tx.tx_datetime < cut], tx[tx.tx_datetime >= cut]
    # a few records of the first period arrive late, with the second batch
    stragglers = early[early.customer_id.isin(early.customer_id.unique()[:3])].tail(4)
    early = early.drop(stragglers.index)
    early.to_parquet(tmp_path / "first.parquet", index=False)
    pd.concat([late, stragglers]).to_parquet(tmp_path / "second.parquet", index=False)
    with confluens.open(root) as project:
        project.apply()
        project.ingest("transactions", str(tmp_path / "first.parquet"))
        (first,) = project.materialize(["customer_spending"])
        assert first.mode == "full"
        assert project.materialize(["customer_spending"])[0].mode == "skipped"
        project.ingest("transactions", str(tmp_path / "second.parquet"))
        before = set(project.feature_tables.files("customer_spending"))
        (second,) = project.materialize(["customer_spending"])
        assert second.mode == "incremental"
        assert second.events == len(tx)
        assert len(late) + len(stragglers) <= second.recomputed < len(tx)
        incremental = project.feature_tables.files("customer_spending")
        kept = before & set(incremental)
        assert len(kept) >= len(before) // 2, "partitions the new records cannot change stay"
        after = pa.concat_tables(pq.read_table(f) for f in incremental)
        cols = ["customer_id", "tx_datetime", "__tie", *project.definitions.feature_view(
            "customer_spending").feature_names]
        want = project.event_features("customer_spending").select(cols)
        key = ["customer_id", "tx_datetime", "__tie"]
        got_frame = after.select(cols).to_pandas().sort_values(key).reset_index(drop=True)
        want_frame = want.to_pandas().sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(got_frame, want_frame, check_exact=False, rtol=1e-12)
        # the online state of every entity that got records equals a full rebuild's
        at = pd.Timestamp(tx.tx_datetime.max()).to_pydatetime()
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        changed = sorted(set(late.customer_id) | set(stragglers.customer_id))
        online = project.online_features("customer_spending", changed, at=at)
        (project.config.store_root / "materialized" / "customer_spending.json").unlink()
        assert project.materialize(["customer_spending"])[0].mode == "full"
        assert project.online_features("customer_spending", changed, at=at) == online


def test_a_range_needs_a_current_full_build_and_a_bad_record_means_rebuild(
        tmp_path: Path) -> None:
    from confluens.errors import InputError

    root = confluens.init(tmp_path / "fraud")
    write_fraud_dataset(root / "data", FraudSimulation(n_customers=20, n_terminals=30,
                                                      n_days=10))
    start = datetime(2018, 4, 3, tzinfo=UTC)
    with confluens.open(root) as project:
        project.apply()
        project.ingest("transactions")
        with pytest.raises(InputError, match="current definition") as info:
            project.materialize(["customer_spending"], start=start)
        assert "confluens materialize customer_spending" in info.value.fix
        assert project.materialize(["customer_spending"])[0].mode == "full"
        (ranged,) = project.materialize(["customer_spending"], start=start,
                                        end=start + timedelta(days=1))
        assert ranged.mode == "range"
        assert 0 < ranged.recomputed < ranged.events
        record = project.config.store_root / "materialized" / "customer_spending.json"
        record.write_text('{"spec": ')  # a crash mid-write in an older release
        assert project.materialize(["customer_spending"])[0].mode == "full"
