"""Connectors: read records from where they live into raw chunks for ingestion."""

from confluens.connectors.chunk import RawChunk
from confluens.connectors.files import file_chunks, resolve_paths
from confluens.connectors.records import records_chunk
from confluens.connectors.sql import is_database_uri, query_chunks

__all__ = ["RawChunk", "file_chunks", "is_database_uri", "query_chunks", "records_chunk",
           "resolve_paths"]
