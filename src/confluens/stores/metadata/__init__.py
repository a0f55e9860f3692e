"""The metadata store: definition versions, ingest runs and the quarantine index."""

from confluens.stores.metadata.protocol import (
    AppliedDefinition,
    IngestRun,
    MetadataStore,
    QuarantineBatch,
)
from confluens.stores.metadata.sql import SqlMetadataStore

__all__ = ["AppliedDefinition", "IngestRun", "MetadataStore", "QuarantineBatch",
           "SqlMetadataStore"]
