"""The one place a project's stores are built from its configuration.

Every store is built on first use (opening a project connects to nothing) and typed as
its protocol, so the services of ``project/`` depend on what a store does, not on
which one it is::

    metadata        MetadataStore      SqlMetadataStore (SQLite by default, PostgreSQL)
    offline         OfflineStore       ParquetOfflineStore under <root>/offline
    feature_tables  FeatureTableStore  ParquetOfflineStore under <root>/features
    quarantine      QuarantineFiles    Parquet files under <root>/quarantine
    online          OnlineStore        EmbeddedOnlineStore (online.db) or RedisOnlineStore
"""

from __future__ import annotations

from functools import cached_property

from confluens.project.config import ProjectConfig
from confluens.stores.metadata import MetadataStore, SqlMetadataStore
from confluens.stores.offline import FeatureTableStore, OfflineStore, ParquetOfflineStore
from confluens.stores.online import EmbeddedOnlineStore, OnlineStore
from confluens.stores.quarantine import QuarantineFiles

__all__ = ["ProjectStores"]


class ProjectStores:
    """The stores of one project, each built from ``config`` when first used.

    A store passed in (``metadata=``, ``online=``) is used instead of building one:
    a plug-in's store, or an in-memory one (stores/memory.py) in a test.
    """

    def __init__(self, config: ProjectConfig, *, metadata: MetadataStore | None = None,
                 online: OnlineStore | None = None) -> None:
        self.config = config
        if metadata is not None:
            self.metadata = metadata
        if online is not None:
            self.online = online

    @cached_property
    def metadata(self) -> MetadataStore:
        self.config.store_root.mkdir(parents=True, exist_ok=True)
        return SqlMetadataStore(self.config.metadata_url)

    @cached_property
    def offline(self) -> OfflineStore:
        return ParquetOfflineStore(self.config.store_root / "offline")

    @cached_property
    def feature_tables(self) -> FeatureTableStore:
        return ParquetOfflineStore(self.config.store_root / "features")

    @cached_property
    def quarantine(self) -> QuarantineFiles:
        return QuarantineFiles(self.config.store_root / "quarantine")

    @cached_property
    def online(self) -> OnlineStore:
        if self.config.online_store == "redis":
            from confluens.stores.online.redis_store import RedisOnlineStore

            return RedisOnlineStore(self.config.redis_url, namespace=self.config.name)
        return EmbeddedOnlineStore(self.config.store_root / "online.db")

    def close(self) -> None:
        """Close the stores that were opened (the others were never built)."""
        if "metadata" in self.__dict__:
            self.metadata.close()
        if "online" in self.__dict__:
            self.online.close()
