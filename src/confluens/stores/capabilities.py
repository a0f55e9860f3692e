"""What a store declares it can do, so the conformance checks it must pass are chosen
by asking it (``store.capabilities``) rather than by trying and catching.

>>> sorted(StoreCapability)  # doctest: +NORMALIZE_WHITESPACE
[<StoreCapability.CHECKPOINT: 'checkpoint'>, <StoreCapability.COMPACT: 'compact'>,
 <StoreCapability.EXPIRY: 'expiry'>, <StoreCapability.LEASES: 'leases'>,
 <StoreCapability.REPLACE: 'replace'>,
 <StoreCapability.THREADS: 'threads'>]
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["StoreCapability"]


class StoreCapability(StrEnum):
    """One thing a store may support beyond its protocol's core."""

    REPLACE = "replace"  # offline: replace and replace_partitions (a FeatureTableStore)
    COMPACT = "compact"  # offline: compact(table, runs, run_id), runs() unchanged
    EXPIRY = "expiry"  # online: honours ttl_seconds, reading the time from its `clock`
    THREADS = "threads"  # online: one store object shared by several threads
    CHECKPOINT = "checkpoint"  # online: commit(...) writes state and a checkpoint atomically
    LEASES = "leases"  # online: acquire/renew/release expiring leases (online/lease.py)
