"""In-memory stores: first-class implementations of the metadata and online store
protocols that keep everything in Python objects, for tests of the logic above the
stores (no file, no server). They pass the same conformance checks as the real ones.

>>> store = MemoryOnlineStore()
>>> store.write("v", {"a": b"1"}, ttl_seconds=60)
1
>>> store.read("v", ["a", "b"])
[b'1', None]
>>> store.clock = lambda: 10.0**12  # far in the future: the state has expired
>>> store.read("v", ["a"])
[None]
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from confluens.errors import CheckpointConflictError
from confluens.stores.capabilities import StoreCapability
from confluens.stores.metadata import AppliedDefinition, IngestRun, QuarantineBatch
from confluens.stores.metadata.sql import spec_hash
from confluens.stores.online.checkpoint import Checkpoint, StateWrite
from confluens.stores.online.lease import Lease

__all__ = ["MemoryMetadataStore", "MemoryOnlineStore"]


class MemoryOnlineStore:
    """An online store in a dict; expiry measured by ``clock`` (seconds since the epoch)."""

    capabilities = frozenset(StoreCapability) - {StoreCapability.REPLACE}

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._state: dict[str, dict[str, tuple[bytes, float | None]]] = {}
        self._checkpoints: dict[str, Checkpoint] = {}
        self._leases: dict[str, Lease] = {}
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        return f"memory:{id(self):x}"

    def write(self, view: str, items: Mapping[str, bytes], *,
              ttl_seconds: float | None = None) -> int:
        expires = None if ttl_seconds is None else self.clock() + ttl_seconds
        with self._lock:
            state = self._state.setdefault(view, {})
            state.update({key: (bytes(value), expires) for key, value in items.items()})
        return len(items)

    def replace(self, view: str, items: Mapping[str, bytes], *,
                ttl_seconds: float | None = None) -> int:
        expires = None if ttl_seconds is None else self.clock() + ttl_seconds
        new = {key: (bytes(value), expires) for key, value in items.items()}
        with self._lock:
            self._state[view] = new
        return len(items)

    def read(self, view: str, keys: Sequence[str]) -> list[bytes | None]:
        now = self.clock()
        with self._lock:
            state = self._state.get(view, {})
            found = [state.get(key) for key in keys]
        return [None if item is None or (item[1] is not None and item[1] <= now) else item[0]
                for item in found]

    def read_many(self, requests: Sequence[tuple[str, Sequence[str]]],
                  ) -> list[list[bytes | None]]:
        return [self.read(view, keys) for view, keys in requests]

    def clear(self, view: str) -> None:
        with self._lock:
            self._state.pop(view, None)

    def checkpoint(self, consumer: str) -> Checkpoint | None:
        with self._lock:
            return self._checkpoints.get(consumer)

    def commit(self, checkpoint: Checkpoint, writes: Sequence[StateWrite], *,
               ttl_seconds: float | None = None) -> None:
        expires = None if ttl_seconds is None else self.clock() + ttl_seconds
        with self._lock:
            stored = self._checkpoints.get(checkpoint.consumer)
            seq = 0 if stored is None else stored.seq
            if seq != checkpoint.seq - 1:
                raise CheckpointConflictError(
                    f"stream consumer '{checkpoint.consumer}'",
                    f"a commit must follow the stored checkpoint {seq}", got=checkpoint.seq,
                    fix="run one processor per consumer and partition")
            for view, items in writes:
                self._state.setdefault(view, {}).update(
                    {key: (bytes(value), expires) for key, value in items.items()})
            self._checkpoints[checkpoint.consumer] = checkpoint

    def acquire(self, name: str, owner: str, ttl_seconds: float) -> Lease | None:
        now = self.clock()
        with self._lock:
            held = self._leases.get(name)
            if held is not None and held.owner != owner and held.live(now):
                return None
            lease = self._leases[name] = Lease(name, owner, now + ttl_seconds)
        return lease

    def renew(self, name: str, owner: str, ttl_seconds: float) -> Lease | None:
        now = self.clock()
        with self._lock:
            held = self._leases.get(name)
            if held is None or held.owner != owner or not held.live(now):
                return None
            lease = self._leases[name] = Lease(name, owner, now + ttl_seconds)
        return lease

    def release(self, name: str, owner: str) -> bool:
        with self._lock:
            held = self._leases.get(name)
            if held is None or held.owner != owner:
                return False
            del self._leases[name]
        return True

    def leases(self, prefix: str) -> list[Lease]:
        with self._lock:
            return sorted((lease for name, lease in self._leases.items()
                           if name.startswith(prefix)), key=lambda lease: lease.name)

    def close(self) -> None:
        """Nothing to release; the state stays readable."""


class MemoryMetadataStore:
    """A metadata store in lists and dicts. Records come back as copies, as from a
    database: changing one changes nothing stored."""

    def __init__(self) -> None:
        # every version of every key, oldest first; a removal is a version of its own
        self._versions: list[tuple[AppliedDefinition, bool]] = []
        self._runs: dict[str, IngestRun] = {}
        self._batches: dict[str, QuarantineBatch] = {}

    def _latest(self) -> dict[str, tuple[AppliedDefinition, bool]]:
        latest: dict[str, tuple[AppliedDefinition, bool]] = {}
        for version, removed in self._versions:
            latest[version.key] = (version, removed)
        return latest

    def applied(self) -> dict[str, AppliedDefinition]:
        return {key: copy.deepcopy(v) for key, (v, removed) in self._latest().items()
                if not removed}

    def apply(self, specs: dict[str, dict[str, Any]], at: datetime) -> dict[str, int]:
        last = self._latest()
        out: dict[str, int] = {}
        for key, spec in specs.items():
            digest = spec_hash(spec)
            prev = last.get(key)
            if prev is not None and prev[0].spec_hash == digest and not prev[1]:
                out[key] = prev[0].version
                continue
            out[key] = (prev[0].version if prev else 0) + 1
            self._versions.append((AppliedDefinition(key, out[key], digest,
                                                     copy.deepcopy(spec), at), False))
        for key, (prev_version, removed) in last.items():
            if key not in specs and not removed:
                self._versions.append((AppliedDefinition(
                    key, prev_version.version + 1, prev_version.spec_hash, {}, at), True))
        return out

    def history(self, key: str) -> list[AppliedDefinition]:
        return [copy.deepcopy(v) for v, _ in self._versions if v.key == key]

    def start_run(self, run: IngestRun) -> None:
        self._runs[run.run_id] = copy.deepcopy(run)

    def finish_run(self, run: IngestRun) -> None:
        self._runs[run.run_id] = copy.deepcopy(run)

    def update_run(self, run: IngestRun) -> None:
        self._runs[run.run_id] = copy.deepcopy(run)

    def runs(self, source: str | None = None) -> list[IngestRun]:
        chosen = [r for r in self._runs.values() if source is None or r.source == source]
        return [copy.deepcopy(r) for r in sorted(chosen, key=lambda r: r.started_at)]

    def add_quarantine(self, batch: QuarantineBatch) -> None:
        self._batches[batch.batch_id] = batch

    def quarantine(self, source: str, status: str | None = "pending") -> list[QuarantineBatch]:
        chosen = [b for b in self._batches.values() if b.source == source
                  and (status is None or b.status == status)]
        return sorted(chosen, key=lambda b: b.created_at)

    def set_quarantine_status(self, batch_ids: list[str], status: str) -> None:
        for batch_id in batch_ids:
            batch = self._batches[batch_id]
            self._batches[batch_id] = QuarantineBatch(
                batch.batch_id, batch.run_id, batch.source, batch.path, batch.rows,
                dict(batch.rules), status, batch.created_at)

    def close(self) -> None:
        """Nothing to release."""
