"""Stage two of ingestion: tell new records from duplicates and conflicts.

Given ``verdict`` (every record with its verdict) this builds ``final``, with a
``__status`` per record:

- ``rejected``: broke a quarantine rule (see classify.py);
- ``duplicate``: the same record is already stored, or came earlier in this input;
  for a rejected record, the same raw record is already in pending quarantine;
- ``conflict``: its id is already stored, or came earlier, with other content;
- ``new``: everything else; these are stored.

A record's identity is its id where the source has one, else the md5 of its
typed values. Unique checks run on the new records afterwards.
"""

from __future__ import annotations

import sqlglot.expressions as exp

from confluens.core import DType, Field, Source
from confluens.sqlx import col, func, ident, lit, table_ref, template

__all__ = ["content_hash", "final_select", "identity_select", "requarantined_select",
           "status_select", "unique_fails_select"]

_SEP = lit("\x1f")
_NULL = lit("\x00")


def content_hash(source: Source, table: str) -> exp.Expr:
    """md5 over the typed values, each as text (NULL as a NUL byte), unit-separated."""
    parts = [exp.Coalesce(this=exp.cast(_canonical(f, table), "VARCHAR"), expressions=[_NULL])
             for f in source.schema]
    return func("md5", func("concat_ws", _SEP, *parts))


def _canonical(field: Field, table: str) -> exp.Expr:
    """A value as hashed: timestamps as microseconds since the epoch, the rest as is."""
    value = col(field.name, table)
    return func("epoch_us", value) if field.dtype is DType.TIMESTAMP else value


def identity_select(source: Source, verdict: str = "verdict") -> exp.Select:
    """Add ``__hash``, ``__key`` and ``__rejected`` to each record of ``verdict``."""
    hashed = content_hash(source, verdict)
    key = exp.cast(col(source.id, verdict), "VARCHAR") if source.id else hashed.copy()
    rejected = exp.Not(this=exp.Is(this=col("__reason", verdict), expression=exp.null()))
    return exp.select(
        exp.Column(this=exp.Star(), table=ident(verdict)),
        exp.alias_(hashed, "__hash", quoted=True, copy=False),
        exp.alias_(key, "__key", quoted=True, copy=False),
        exp.alias_(rejected, "__rejected", quoted=True, copy=False), copy=False,
    ).from_(table_ref(verdict), copy=False)


# ``identified`` is computed once, into ``final``: every record is first ``rejected`` or
# ``new``, with no raw ``__record`` yet (the stage adds it, and its md5, to the rejected
# ones); _STATUS then gives the others their status.
_FINAL = """
SELECT i.*, CAST(NULL AS VARCHAR) AS __record, CAST(NULL AS VARCHAR) AS __record_hash,
       CASE WHEN i.__rejected THEN 'rejected' ELSE 'new' END AS __status
FROM identified AS i
"""


# The records not rejected whose status is not ``new``: the first record of each
# identity in this input (reading order) is the one that counts.
_STATUS = """
WITH first AS (
  SELECT __key, min(__row) AS first_row, arg_min(__hash, __row) AS first_hash
  FROM final WHERE NOT __rejected GROUP BY __key
)
SELECT __row, __status FROM (
  SELECT
    i.__row,
    CASE
      WHEN s.k IS NOT NULL AND s.h = i.__hash THEN 'duplicate'
      WHEN s.k IS NOT NULL THEN 'conflict'
      WHEN f.first_row = i.__row THEN 'new'
      WHEN f.first_hash = i.__hash THEN 'duplicate'
      ELSE 'conflict'
    END AS __status
  FROM final AS i
  LEFT JOIN first AS f ON f.__key = i.__key
  LEFT JOIN stored AS s ON s.k = i.__key
  WHERE NOT i.__rejected
) AS statuses
WHERE __status <> 'new'
"""


# Records bound for quarantine that are already there (pending), or came earlier in
# this input, are duplicates: re-ingesting a bad file adds nothing to quarantine.
_REQUARANTINED = """
SELECT f.__row FROM (
  SELECT __row, __record_hash,
         row_number() OVER (PARTITION BY __record_hash ORDER BY __row) AS rn
  FROM final WHERE __status = 'rejected'
) AS f
LEFT JOIN pending AS q ON q.record_hash = f.__record_hash
WHERE q.record_hash IS NOT NULL OR f.rn > 1
"""

# A Unique check fails where the value is stored already, or came earlier in this input.
_UNIQUE_FAILS = """
SELECT f.__row FROM (
  SELECT __row, value AS uv, row_number() OVER (PARTITION BY value ORDER BY __row) AS rn
  FROM final WHERE __status = 'new' AND value IS NOT NULL
) AS f
LEFT JOIN seen AS s ON s.v = f.uv
WHERE s.v IS NOT NULL OR f.rn > 1
"""



def final_select(identified: str) -> exp.Expr:
    """Every record of ``identified``, ``rejected`` or (for now) ``new``."""
    return template(_FINAL, identified=table_ref(identified))


def status_select(final: str, stored: str) -> exp.Expr:
    """``(__row, __status)`` of the records of ``final`` not rejected that are duplicates
    or conflicts; ``stored(k, h)`` holds the identities and hashes already in the store."""
    return template(_STATUS, final=table_ref(final), stored=table_ref(stored))


def requarantined_select(final: str, pending: str) -> exp.Expr:
    """Rows of ``final`` bound for quarantine whose raw record is in ``pending(record_hash)``."""
    return template(_REQUARANTINED, final=table_ref(final), pending=table_ref(pending))


def unique_fails_select(final: str, column: str, seen: str) -> exp.Expr:
    """Rows of ``final`` whose ``column`` value is in ``seen(v)`` or came earlier."""
    return template(_UNIQUE_FAILS, final=table_ref(final), seen=table_ref(seen),
                    value=col(column))
