"""Columns confluens adds to every stored record. User columns may not start with ``_confluens``.

- ``_confluens_key``: the record's identity: its id as text, or its content hash.
- ``_confluens_hash``: md5 of the record's typed values (see docs/concepts.md).
- ``_confluens_ingested_at``: when the ingest run that stored it started (UTC).
- ``_confluens_run``: the id of that ingest run.
"""

__all__ = ["HASH", "INGESTED_AT", "KEY", "RUN", "SYSTEM_COLUMNS"]

KEY = "_confluens_key"
HASH = "_confluens_hash"
INGESTED_AT = "_confluens_ingested_at"
RUN = "_confluens_run"
SYSTEM_COLUMNS = (KEY, HASH, INGESTED_AT, RUN)
