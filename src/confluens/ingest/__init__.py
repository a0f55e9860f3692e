"""Ingestion: typed, checked, deduplicated records into the offline store; rejects to quarantine."""

from confluens.ingest.pipeline import Ingestion
from confluens.ingest.recovery import recover_runs, settle
from confluens.ingest.result import ChunkCounts

__all__ = ["ChunkCounts", "Ingestion", "recover_runs", "settle"]
