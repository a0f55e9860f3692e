"""Offline stores: append-only tables of records, read back as Arrow."""

from confluens.stores.offline.lock import table_lock
from confluens.stores.offline.parquet import ParquetOfflineStore
from confluens.stores.offline.protocol import FeatureTableStore, OfflineStore

__all__ = ["FeatureTableStore", "OfflineStore", "ParquetOfflineStore", "table_lock"]
