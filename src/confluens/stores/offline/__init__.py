"""Offline stores: append-only tables of records, read back as Arrow."""

from confluens.stores.offline.compaction import Compacted
from confluens.stores.offline.lock import table_lock
from confluens.stores.offline.parquet import ParquetOfflineStore
from confluens.stores.offline.protocol import CompactingStore, FeatureTableStore, OfflineStore

__all__ = ["Compacted", "CompactingStore", "FeatureTableStore", "OfflineStore",
           "ParquetOfflineStore", "table_lock"]
