"""One chunk's verdicts: every record typed, checked, deduplicated and counted.

:func:`judge_chunk` is the part of an ingest that decides, shared by batch ingest
(``pipeline.py``) and the stream processor: it loads the chunk into the stage, types
it, runs the checks, marks id conflicts, Unique failures and duplicates, and, for a
stream, sends records older than the allowed lateness to quarantine as ``late``. It
writes nothing; the caller stores what it returns, then calls ``stage.remember``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from confluens.connectors.chunk import RawChunk
from confluens.core import Source
from confluens.errors import SchemaMismatchError
from confluens.ingest.classify import typed_select, verdict_select
from confluens.ingest.custom import run_custom_checks
from confluens.ingest.dedup import (
    final_select,
    identity_select,
    requarantined_select,
    status_select,
    unique_fails_select,
)
from confluens.ingest.result import ChunkCounts
from confluens.ingest.stage import Stage

__all__ = ["Judged", "Lateness", "judge_chunk"]


@dataclass(frozen=True, slots=True)
class Lateness:
    """Records whose event time is before ``before_us`` (µs since the epoch) are late:
    ``allowed`` is the binding's allowed lateness, for the reason text."""

    before_us: int
    allowed: str


@dataclass(frozen=True, slots=True)
class Judged:
    counts: ChunkCounts
    quarantined: pa.Table  # QUARANTINE_SCHEMA rows
    accepted: pa.Table  # the source's columns and the system columns, in input order


def judge_chunk(stage: Stage, source: Source, chunk: RawChunk, *,
                lateness: Lateness | None = None) -> Judged:
    """The verdict on every record of ``chunk`` (see the module docstring)."""
    con = stage.con
    rows_in = chunk.load(con, "raw")
    raw_types = stage.raw_types("raw")
    stage.raw_names = list(raw_types)
    missing = [f.input_name for f in source.schema if f.input_name not in raw_types]
    if missing and not chunk.per_record_columns:
        raise SchemaMismatchError(
            f"input {chunk.label} for source '{source.name}'",
            f"lacks the schema's columns {missing}", got=sorted(raw_types),
            fix="add those columns to the input, or map a differently named column with "
            "Field(name, type, raw='Name In File')")
    raw = (id(source), *raw_types.items())  # what the queries below depend on
    stage.create("typed", stage.built(("typed", raw), lambda: typed_select(source, raw_types)),
                 timezone=source.timezone)
    custom = run_custom_checks(con, source, "typed", "custom")
    stage.create("verdict", stage.built(("verdict", id(source), *custom.items()),
                                        lambda: verdict_select(source, custom)), kind="VIEW")
    stage.create("identified", stage.built(("identified", id(source)),
                                           lambda: identity_select(source)), kind="VIEW")
    # the typed records, their verdicts and identities are computed once, into final;
    # then the few records whose status is not yet known (or that need their raw text)
    stage.create("final", stage.built(("final",), lambda: final_select("identified")))
    stage.set_statuses(stage.built(("statuses",), lambda: status_select("final", "stored")))
    stage.keep_records()
    stage.mark_conflicts(source)
    for check in stage.uniques:
        stage.apply_unique(check, unique_fails_select("final", check.column,
                                                      stage.seen_table(check)))
    stage.update_status(requarantined_select("final", "pending"), "duplicate")
    if lateness is not None:
        stage.reject_late(source.event_time, lateness.before_us, lateness.allowed)
    counts = stage.counts(rows_in)
    return Judged(counts, stage.quarantined(chunk.label), stage.accepted())
