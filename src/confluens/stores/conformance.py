"""The conformance checks every store implementation must pass.

Each check is named and states the capabilities it needs (``StoreCheck.needs``); the
checks a store must pass are chosen by asking it (``store.capabilities``), so the
project's tests and a plug-in author's tests run the very same ones::

    from confluens.stores.conformance import check_online_store
    check_online_store(MyOnlineStore(...))  # every check its capabilities call for

or one at a time (``ONLINE_CHECKS``, ``checks_for(store, ONLINE_CHECKS)``). Each check
expects an empty store, and the checks of one kind of store use tables or views of
their own, so they also run one after another on one store. No check waits: expiry
is checked by setting the store's ``clock`` back (``StoreCapability.EXPIRY``), never
by sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from confluens.errors import CheckpointConflictError
from confluens.stores.capabilities import StoreCapability
from confluens.stores.metadata import IngestRun, MetadataStore, QuarantineBatch
from confluens.stores.offline import CompactingStore, FeatureTableStore, OfflineStore
from confluens.stores.online import OnlineStore
from confluens.stores.online.checkpoint import Checkpoint, CheckpointStore
from confluens.stores.online.lease import Lease, LeaseStore

__all__ = ["METADATA_CHECKS", "OFFLINE_CHECKS", "ONLINE_CHECKS", "StoreCheck",
           "check_metadata_store", "check_offline_store", "check_online_store", "checks_for"]

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000


@dataclass(frozen=True, slots=True)
class StoreCheck:
    """One named check, run on an empty store that has every capability in ``needs``."""

    name: str
    run: Callable[[Any], None]
    needs: frozenset[StoreCapability] = frozenset()

    def __repr__(self) -> str:
        return f"StoreCheck({self.name!r})"


def checks_for(store: object, checks: Sequence[StoreCheck]) -> list[StoreCheck]:
    """The checks of ``checks`` that ``store`` must pass, by its declared capabilities."""
    has: frozenset[StoreCapability] = getattr(store, "capabilities", frozenset())
    return [check for check in checks if check.needs <= has]


def _run_all(store: object, checks: Sequence[StoreCheck]) -> list[str]:
    chosen = checks_for(store, checks)
    for check in chosen:
        check.run(store)
    return [check.name for check in chosen]


# -- metadata stores ------------------------------------------------------------------

def check_metadata_definitions(store: MetadataStore) -> None:
    """Applies version each definition; a removed and re-added one gets a new version."""
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


def check_metadata_runs(store: MetadataStore) -> None:
    """A run's counts are recorded as it goes and when it finishes, per source."""
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


def check_metadata_quarantine(store: MetadataStore) -> None:
    """Quarantine batches are listed per source and status, in the order added."""
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


METADATA_CHECKS = (
    StoreCheck("definitions", check_metadata_definitions),
    StoreCheck("runs", check_metadata_runs),
    StoreCheck("quarantine", check_metadata_quarantine),
)


def check_metadata_store(store: MetadataStore) -> list[str]:
    """Every metadata check, on one empty store; returns the names of those run."""
    return _run_all(store, METADATA_CHECKS)


# -- offline stores -------------------------------------------------------------------

def _events(ids: list[int], micros: list[int]) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()),
                     "ts": pa.array(micros, pa.timestamp("us", tz="UTC"))})


def _ids(store: OfflineStore, table: str, **only: Any) -> list[int]:
    files = store.files(table, **only)
    if not files:
        return []
    read = pa.concat_tables(pq.read_table(f, columns=["id"]) for f in files)
    return sorted(read.column("id").to_pylist())


def check_offline_append(store: OfflineStore) -> None:
    """Appends commit whole; an empty one commits nothing; tables are separate."""
    assert store.files("t") == []
    assert store.row_count("t") == 0
    data = _events([1, 2, 3], [0, DAY_US, DAY_US + 1])
    assert store.append("t", data, run_id="r1", partition_by="ts") == 3
    assert store.row_count("t") == 3
    assert store.append("t", data.slice(0, 0), run_id="r2", partition_by="ts") == 0
    assert store.append("t", data.slice(0, 1), run_id="r3", partition_by="ts") == 1
    assert store.row_count("t") == 4
    assert _ids(store, "t") == [1, 1, 2, 3]
    assert store.files("other") == []


def check_offline_runs(store: OfflineStore) -> None:
    """Rows are counted per run, and files can be listed by run."""
    store.append("t_runs", _events([1, 2], [0, DAY_US]), run_id="r1", partition_by="ts")
    store.append("t_runs", _events([3], [0]), run_id="r2", partition_by="ts")
    assert store.runs("t_runs") == {"r1": 2, "r2": 1}, "rows committed per run"
    assert _ids(store, "t_runs", runs={"r2"}) == [3]
    assert _ids(store, "t_runs", runs={"r1", "r2"}) == [1, 2, 3]
    assert store.files("t_runs", runs={"none"}) == []


def check_offline_partitions(store: OfflineStore) -> None:
    """Files are partitioned by the UTC date of the ``partition_by`` column."""
    store.append("t_partitions", _events([1, 2, 3], [0, DAY_US - 1, DAY_US]), run_id="r1",
                 partition_by="ts")
    assert _ids(store, "t_partitions", partitions={"1970-01-01"}) == [1, 2]
    assert _ids(store, "t_partitions", partitions={"1970-01-02"}) == [3]
    assert store.files("t_partitions", partitions={"1999-12-31"}) == []


def check_offline_replace(store: FeatureTableStore) -> None:
    """``replace`` makes the new rows the whole table."""
    store.append("t_replace", _events([1, 2, 3], [0, DAY_US, DAY_US + 1]), run_id="r1",
                 partition_by="ts")
    assert store.replace("t_replace", _events([7, 8], [0, 0]), run_id="r2", partition_by="ts") == 2
    assert store.row_count("t_replace") == 2, "replace leaves only the new rows"
    assert _ids(store, "t_replace") == [7, 8]
    assert store.runs("t_replace") == {"r2": 2}


def check_offline_replace_partitions(store: FeatureTableStore) -> None:
    """``replace_partitions`` rewrites the partitions named and leaves the others."""
    store.append("t_replace_partitions", _events([1, 2, 3], [0, DAY_US, 2 * DAY_US]), run_id="r1",
                 partition_by="ts")
    store.replace_partitions("t_replace_partitions", _events([20, 21], [DAY_US, DAY_US + 5]),
                             partitions={"1970-01-02"}, run_id="r2", partition_by="ts")
    assert _ids(store, "t_replace_partitions") == [1, 3, 20, 21]
    assert store.row_count("t_replace_partitions") == 4
    table = "t_replace_partitions"
    store.replace_partitions(table, _events([], []), partitions={"1970-01-01"}, run_id="r3",
                             partition_by="ts")
    assert _ids(store, table) == [3, 20, 21], "an empty replacement empties the partition"


def check_offline_compact(store: CompactingStore) -> None:
    """Compaction merges files per partition, keeps every row and each run's count, and
    lists a merged file for any of its runs; later appends and compactions go on."""
    table = "t_compact"
    for i in range(6):  # runs r0..r5, each a file in 1970-01-01 and one in 1970-01-02
        store.append(table, _events([2 * i, 2 * i + 1], [i, DAY_US + i]), run_id=f"r{i}",
                     partition_by="ts")
    runs, ids = store.runs(table), _ids(store, table)
    done = store.compact(table, {f"r{i}" for i in range(5)}, run_id="c1")
    assert (done.files_before, done.files_after, done.rows) == (10, 2, 10)
    assert len(store.files(table)) == 4, "r5's two files are left as they were"
    assert store.runs(table) == runs, "each run's count survives the compaction"
    assert _ids(store, table) == ids
    assert _ids(store, table, runs={"r5"}) == [10, 11]
    assert set(_ids(store, table, runs={"r1"})) >= {2, 3}, "a merged file lists its runs"
    assert store.compact(table, {"r0"}, run_id="c2").files_before == 0, \
        "a merged file holding other runs too is not taken for one of them"
    store.append(table, _events([12], [3]), run_id="r6", partition_by="ts")
    again = store.compact(table, {f"r{i}" for i in range(7)}, run_id="c3")
    assert (again.files_after, len(store.files(table))) == (2, 2)
    assert store.runs(table) == {**runs, "r6": 1}
    assert _ids(store, table) == sorted([*ids, 12])
    assert store.row_count(table) == 13


OFFLINE_CHECKS = (
    StoreCheck("append", check_offline_append),
    StoreCheck("runs", check_offline_runs),
    StoreCheck("partitions", check_offline_partitions),
    StoreCheck("replace", check_offline_replace, frozenset({StoreCapability.REPLACE})),
    StoreCheck("replace_partitions", check_offline_replace_partitions,
               frozenset({StoreCapability.REPLACE})),
    StoreCheck("compact", check_offline_compact, frozenset({StoreCapability.COMPACT})),
)


def check_offline_store(store: OfflineStore) -> list[str]:
    """Every offline check its capabilities call for, on one empty store (each check
    uses tables of its own); returns the names of those run."""
    return _run_all(store, OFFLINE_CHECKS)


# -- online stores --------------------------------------------------------------------

def check_online_location(store: OnlineStore) -> None:
    """``location`` names the store (a materialize records it)."""
    assert isinstance(store.location, str), "location names the store"
    assert store.location, "location names the store"


def check_online_read_write(store: OnlineStore) -> None:
    """Reads answer in key order, None for a missing key; writes replace; views apart."""
    assert store.read("rw", ["a", "b"]) == [None, None]
    assert store.write("rw", {"a": b"1", "b": b"\x00\xff"}) == 2
    assert store.read("rw", ["b", "zz", "a"]) == [b"\x00\xff", None, b"1"]
    store.write("rw", {"a": b"2"})
    assert store.read("rw", ["a"]) == [b"2"], "a write replaces"
    assert store.read("rw_other", ["a"]) == [None], "views are separate"
    assert store.read("rw", []) == []
    many = {f"k{i}": str(i).encode() for i in range(2000)}
    store.write("rw_many", many)
    assert store.read("rw_many", list(many)) == list(many.values())


def check_online_read_many(store: OnlineStore) -> None:
    """``read_many`` answers each (view, keys) request in key order."""
    store.write("rm_a", {"a": b"2"})
    store.write("rm_b", {"k7": b"7"})
    assert store.read_many([("rm_a", ["a", "zz"]), ("rm_b", ["k7"]), ("rm_a", [])]) == [
        [b"2", None], [b"7"], []], "read_many answers each request in key order"
    assert store.read_many([]) == []


def check_online_clear(store: OnlineStore) -> None:
    """``clear`` removes one view's state only."""
    store.write("cl_a", {"a": b"1", "b": b"2"})
    store.write("cl_b", {"k1": b"1"})
    store.clear("cl_a")
    assert store.read("cl_a", ["a", "b"]) == [None, None]
    assert store.read("cl_b", ["k1"]) == [b"1"], "clear touches one view only"


def check_online_replace(store: OnlineStore) -> None:
    """``replace`` keeps exactly the new state of one view."""
    store.write("rp_a", {"old": b"o", "both": b"1"})
    store.write("rp_b", {"k1": b"1"})
    assert store.replace("rp_a", {"both": b"2", "new": b"n"}) == 2
    assert store.read("rp_a", ["old", "both", "new"]) == [None, b"2", b"n"], \
        "replace keeps exactly the new state"
    assert store.read("rp_b", ["k1"]) == [b"1"], "replace touches one view only"


def check_online_expiry(store: Any) -> None:
    """State expires ``ttl_seconds`` after it was written (by the store's ``clock``):
    written an hour ago, a one-minute TTL has passed and a two-hour one has not."""
    real: Callable[[], float] = store.clock
    store.clock = lambda: real() - 3600
    try:
        store.write("ex_a", {"old": b"o", "kept": b"k"}, ttl_seconds=60)
        store.write("ex_a", {"kept": b"k"}, ttl_seconds=7200)
        store.replace("ex_b", {"old": b"o"}, ttl_seconds=60)
    finally:
        store.clock = real
    store.write("ex_a", {"fresh": b"ex_b"}, ttl_seconds=60)
    store.write("ex_a", {"forever": b"x"})
    assert store.read("ex_a", ["old", "kept", "fresh", "forever"]) == [None, b"k", b"ex_b", b"x"], \
        "state expires after its TTL"
    assert store.read_many([("ex_a", ["old", "kept"]), ("ex_b", ["old"])]) == [[None, b"k"], [None]]


def check_online_threads(store: OnlineStore) -> None:
    """Threads sharing one store object read and write without errors."""
    store.write("th", {f"k{i}": str(i).encode() for i in range(50)})
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(300):
                key = f"k{(i + n) % 50}"
                assert store.read("th", [key]) == [key[1:].encode()]
                assert store.read_many([("th", [key, "none"])]) == [[key[1:].encode(), None]]
                if i % 100 == 0:
                    store.write("th", {key: key[1:].encode()})
        except BaseException as exc:  # reported below, from the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, f"concurrent use failed: {failures[:2]!r}"


def check_online_checkpoint(store: CheckpointStore) -> None:
    """``commit`` writes state and checkpoint together, in sequence; a commit out of
    sequence (a second or stale processor) raises CheckpointConflictError and writes
    nothing, and consumers are independent."""
    assert store.checkpoint("cp_a") is None, "no checkpoint before the first commit"
    first = Checkpoint("cp_a", 1, {0: "5"}, {"watermark_us": 10})
    store.commit(first, [("cp_v", {"k1": b"1", "k2": b"2"}), ("cp_w", {"k1": b"w"})])
    assert store.checkpoint("cp_a") == first
    assert store.read_many([("cp_v", ["k1", "k2"]), ("cp_w", ["k1"])]) == [[b"1", b"2"], [b"w"]]
    for stale in (first, Checkpoint("cp_a", 3, {0: "9"})):
        try:
            store.commit(stale, [("cp_v", {"k1": b"lost"})])
        except CheckpointConflictError:
            pass
        else:
            raise AssertionError(f"commit of seq {stale.seq} after seq 1 must conflict")
    assert store.read("cp_v", ["k1"]) == [b"1"], "a refused commit writes nothing"
    assert store.checkpoint("cp_a") == first, "a refused commit keeps the checkpoint"
    second = first.following({1: "2"}, {"watermark_us": 20})
    store.commit(second, [("cp_v", {"k1": b"one"})])
    assert store.checkpoint("cp_a") == Checkpoint("cp_a", 2, {0: "5", 1: "2"},
                                                  {"watermark_us": 20})
    assert store.read("cp_v", ["k1", "k2"]) == [b"one", b"2"]
    store.commit(Checkpoint("cp_b", 1, {0: "x-1"}), [])
    assert store.checkpoint("cp_b") == Checkpoint("cp_b", 1, {0: "x-1"})
    assert store.checkpoint("cp_a") == second, "consumers are independent"


def _same_lease(got: Lease | None, name: str, owner: str, expires_at: float) -> bool:
    return (got is not None and (got.name, got.owner) == (name, owner)
            and abs(got.expires_at - expires_at) < 1e-3)


def check_online_leases(store: LeaseStore) -> None:
    """Leases are compare-and-set claims that expire by the store's ``clock``: a held
    lease is refused to others until it expires, then anyone may take it; only the
    owner renews (before expiry) or releases it; lists are by prefix and name."""
    real = store.clock
    now = [1_000_000.0]
    store.clock = lambda: now[0]
    try:
        assert store.leases("ls/") == [], "no leases before the first"
        assert _same_lease(store.acquire("ls/p0", "a", 10), "ls/p0", "a", 1_000_010.0)
        assert store.acquire("ls/p0", "b", 10) is None, "a held lease is refused to others"
        now[0] += 4
        assert _same_lease(store.acquire("ls/p0", "a", 10), "ls/p0", "a", 1_000_014.0), \
            "the owner may acquire again: it renews"
        assert store.renew("ls/p0", "b", 10) is None, "only the owner renews"
        assert _same_lease(store.renew("ls/p0", "a", 10), "ls/p0", "a", 1_000_014.0)
        assert store.release("ls/p0", "b") is False, "only the owner releases"
        assert _same_lease(store.acquire("ls/p1", "b", 5), "ls/p1", "b", 1_000_009.0)
        store.acquire("other/p0", "c", 5)
        assert [(x.name, x.owner) for x in store.leases("ls/")] == [
            ("ls/p0", "a"), ("ls/p1", "b")], "leases by prefix, by name"
        now[0] += 6  # 1_000_010: past ls/p1's expiry (1_000_009), before ls/p0's
        assert store.renew("ls/p1", "b", 5) is None, "an expired lease is not renewed"
        expired = [x for x in store.leases("ls/") if x.name == "ls/p1"]
        assert len(expired) == 1, "expired leases are listed"
        assert not expired[0].live(now[0])
        assert store.acquire("ls/p0", "b", 10) is None, "ls/p0 is still a's"
        assert _same_lease(store.acquire("ls/p1", "a", 10), "ls/p1", "a", 1_000_020.0), \
            "an expired lease is anyone's"
        assert store.renew("ls/p1", "b", 10) is None, "the former owner lost it"
        assert store.release("ls/p0", "a") is True
        assert store.release("ls/p0", "a") is False, "a released lease is gone"
        assert [x.name for x in store.leases("ls/")] == ["ls/p1"]
        assert _same_lease(store.acquire("ls/p0", "b", 1), "ls/p0", "b", 1_000_011.0), \
            "a released lease is free"
        assert [(x.name, x.owner) for x in store.leases("other/")] == [("other/p0", "c")]
    finally:
        store.clock = real


ONLINE_CHECKS = (
    StoreCheck("location", check_online_location),
    StoreCheck("read_write", check_online_read_write),
    StoreCheck("read_many", check_online_read_many),
    StoreCheck("clear", check_online_clear),
    StoreCheck("replace", check_online_replace),
    StoreCheck("expiry", check_online_expiry, frozenset({StoreCapability.EXPIRY})),
    StoreCheck("threads", check_online_threads, frozenset({StoreCapability.THREADS})),
    StoreCheck("checkpoint", check_online_checkpoint,
               frozenset({StoreCapability.CHECKPOINT})),
    StoreCheck("leases", check_online_leases, frozenset({StoreCapability.LEASES})),
)


def check_online_store(store: OnlineStore) -> list[str]:
    """Every online check its capabilities call for, on one empty store (each check
    uses views of its own); returns the names of those run."""
    return _run_all(store, ONLINE_CHECKS)
