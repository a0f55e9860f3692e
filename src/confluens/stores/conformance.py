"""The conformance checks every store implementation must pass.

Plain functions that raise AssertionError, so that the project's tests and a
plugin author's tests run the very same checks::

    from confluens.stores.conformance import check_metadata_store
    check_metadata_store(MyMetadataStore(...))

Each check expects an empty store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from confluens.stores.metadata import IngestRun, MetadataStore, QuarantineBatch
from confluens.stores.offline import OfflineStore
from confluens.stores.online import OnlineStore

__all__ = ["check_metadata_store", "check_offline_store", "check_online_store"]

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def check_metadata_store(store: MetadataStore) -> None:
    _definitions(store)
    _runs(store)
    _quarantine(store)


def _definitions(store: MetadataStore) -> None:
    assert store.applied() == {}
    v1 = store.apply({"source:a": {"x": 1}, "entity:e": {"k": ["id"]}}, T0)
    assert v1 == {"source:a": 1, "entity:e": 1}
    assert store.apply({"source:a": {"x": 1}, "entity:e": {"k": ["id"]}}, T0) == v1
    v2 = store.apply({"source:a": {"x": 2}}, T0 + timedelta(hours=1))
    assert v2 == {"source:a": 2}
    applied = store.applied()
    assert set(applied) == {"source:a"}, "removed definitions are not applied"
    assert applied["source:a"].spec == {"x": 2}
    assert applied["source:a"].applied_at == T0 + timedelta(hours=1)
    assert [h.version for h in store.history("source:a")] == [1, 2]
    v3 = store.apply({"source:a": {"x": 2}, "entity:e": {"k": ["id"]}}, T0)
    assert v3["entity:e"] == 3, "a re-added definition gets a new version"


def _runs(store: MetadataStore) -> None:
    run = IngestRun("r1", "a", "in.csv", 2, T0, pid=123, host="h")
    store.start_run(run)
    assert store.runs("a")[0].status == "running"
    run.rows_in, run.accepted = 4, 4
    store.update_run(run)
    assert store.runs("a")[0] == run, "update_run records counts so far (and pid, host)"
    run.status, run.finished_at = "succeeded", T0 + timedelta(seconds=5)
    run.rows_in, run.accepted, run.quarantined, run.duplicates = 10, 6, 3, 1
    run.warnings, run.rules = {"w": 2}, {"r": 3}
    store.finish_run(run)
    store.start_run(IngestRun("r2", "b", "x.parquet", 1, T0 + timedelta(minutes=1)))
    (got,) = store.runs("a")
    assert got == run
    assert got.reconciles
    assert [r.run_id for r in store.runs()] == ["r1", "r2"]


def _quarantine(store: MetadataStore) -> None:
    for i in range(3):
        store.add_quarantine(QuarantineBatch(f"b{i}", "r1", "a", f"/q/{i}.parquet", i + 1,
                                             {"rule": i + 1}, "pending",
                                             T0 + timedelta(seconds=i)))
    assert [b.batch_id for b in store.quarantine("a")] == ["b0", "b1", "b2"]
    assert store.quarantine("a")[1].rules == {"rule": 2}
    store.set_quarantine_status(["b0", "b2"], "retried")
    assert [b.batch_id for b in store.quarantine("a")] == ["b1"]
    assert len(store.quarantine("a", status=None)) == 3
    assert store.quarantine("other") == []


def check_offline_store(store: OfflineStore) -> None:
    assert store.files("t") == []
    assert store.row_count("t") == 0
    day = 86_400_000_000
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64()),
                     "ts": pa.array([0, day, day + 1], pa.timestamp("us", tz="UTC"))})
    assert store.append("t", data, run_id="r1", partition_by="ts") == 3
    assert store.row_count("t") == 3
    assert store.append("t", data.slice(0, 0), run_id="r2", partition_by="ts") == 0
    assert store.append("t", data.slice(0, 1), run_id="r3", partition_by="ts") == 1
    assert store.row_count("t") == 4
    assert store.runs("t") == {"r1": 3, "r3": 1}, "rows committed per run"
    import pyarrow.parquet as pq

    read = pa.concat_tables(pq.read_table(f, columns=["id", "ts"]) for f in store.files("t"))
    assert sorted(read.column("id").to_pylist()) == [1, 1, 2, 3]
    assert store.files("other") == []
    replace = getattr(store, "replace", None)
    if replace is not None:
        assert replace("t", data.slice(1, 2), run_id="r4", partition_by="ts") == 2
        assert store.row_count("t") == 2, "replace leaves only the new rows"


def check_online_store(store: OnlineStore) -> None:
    import time

    assert store.read("v", ["a", "b"]) == [None, None]
    assert isinstance(store.location, str), "location names the store (materialize records it)"
    assert store.location, "location names the store (materialize records it)"
    assert store.write("v", {"a": b"1", "b": b"\x00\xff"}) == 2
    assert store.read("v", ["b", "zz", "a"]) == [b"\x00\xff", None, b"1"]
    store.write("v", {"a": b"2"})
    assert store.read("v", ["a"]) == [b"2"], "a write replaces"
    assert store.read("other", ["a"]) == [None], "views are separate"
    store.write("v", {"short": b"x"}, ttl_seconds=0.2)
    assert store.read("v", ["short"]) == [b"x"]
    time.sleep(0.4)
    assert store.read("v", ["short"]) == [None], "state expires after its TTL"
    many = {f"k{i}": str(i).encode() for i in range(2000)}
    store.write("w", many)
    assert store.read("w", list(many)) == list(many.values())
    assert store.read("v", []) == []
    assert store.read_many([("v", ["a", "zz"]), ("w", ["k7"]), ("v", [])]) == [
        [b"2", None], [b"7"], []], "read_many answers each request in key order"
    store.clear("v")
    assert store.read("v", ["a", "b"]) == [None, None]
    assert store.read("w", ["k1"]) == [b"1"], "clear touches one view only"
    store.write("r", {"old": b"o", "both": b"1"})
    assert store.replace("r", {"both": b"2", "new": b"n"}) == 2
    assert store.read("r", ["old", "both", "new"]) == [None, b"2", b"n"], \
        "replace keeps exactly the new state"
    assert store.read("w", ["k1"]) == [b"1"], "replace touches one view only"
    _check_threads(store)


def _check_threads(store: OnlineStore) -> None:
    """Threads sharing one store object read and write without errors."""
    import threading

    store.write("t", {f"k{i}": str(i).encode() for i in range(50)})
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(300):
                key = f"k{(i + n) % 50}"
                assert store.read("t", [key]) == [key[1:].encode()]
                assert store.read_many([("t", [key, "none"])]) == [[key[1:].encode(), None]]
                if i % 100 == 0:
                    store.write("t", {key: key[1:].encode()})
        except BaseException as exc:  # reported below, from the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, f"concurrent use failed: {failures[:2]!r}"
