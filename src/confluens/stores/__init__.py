"""Stores: where data and metadata are kept, each behind a small protocol.

- ``offline``: append-only Parquet tables, one per source, committed atomically.
- ``metadata``: definition versions, ingest runs and the quarantine index (SQLAlchemy).
- ``quarantine``: the rejected records themselves, as Parquet, with rule and reason.
"""

__all__: list[str] = []
