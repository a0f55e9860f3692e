"""Replay: publish a file's records into a source's stream, in event-time order.

``confluens replay SOURCE FILE [--speed 100x]`` reads a CSV/TSV, Parquet or JSON-lines
file (the columns named as the source's input names), orders its records by the
source's event time (then by their order in the file), and appends each as a JSON
object to the source's stream log, keyed by the binding's ``key`` column. With a
speed, it paces the appends so that event time passes ``speed`` times faster than the
clock (``100x``: a day of events in under 15 minutes); without one, as fast as the
log takes them. It serves demos, load tests, and backfilling a live system.

Records are serialised by DuckDB (``to_json``), so a value reaches the processor as
the file had it: numbers as numbers, timestamps as text, and the processor types them
with the same rules as batch ingest.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlglot.expressions as exp

from confluens.connectors.streams import StreamLog
from confluens.core import Source
from confluens.duckdb_session import connect
from confluens.errors import InputError, SourceReadError
from confluens.project.stream.logs import require_binding
from confluens.sqlx import col, func, lit, render

__all__ = ["ReplaySpeed", "replay_file"]

_SPEED = re.compile(r"^(?P<n>\d+(?:\.\d+)?)x$")
_READERS = {".csv": "read_csv_auto", ".tsv": "read_csv_auto", ".parquet": "read_parquet",
            ".jsonl": "read_json_auto", ".ndjson": "read_json_auto", ".json": "read_json_auto"}


@dataclass(frozen=True, slots=True)
class ReplaySpeed:
    """How fast event time passes during a replay (None: as fast as possible).

    >>> ReplaySpeed.parse("100x").factor, ReplaySpeed.parse("max").factor
    (100.0, None)
    """

    factor: float | None

    @classmethod
    def parse(cls, text: str | None) -> ReplaySpeed:
        if text is None or text == "max":
            return cls(None)
        match = _SPEED.match(text)
        if match is None or float(match["n"]) <= 0:
            raise InputError("--speed", "must be a positive number followed by x, or max",
                             got=text, fix="write e.g. --speed 100x (event time 100 times "
                             "faster than the clock) or --speed max")
        return cls(float(match["n"]))


Progress = Callable[[int, int], None]  # (records published so far, total)


def _records(path: Path, source: Source, batch: int,
             limit: int | None) -> Iterator[tuple[int, list[tuple[str | None, bytes, int]]]]:
    """(total, [(key, payload, event time µs)]) batches in event-time order."""
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"replay file {path}", "must be .csv, .tsv, .parquet or .jsonl",
                         got=path.suffix or path.name, fix="convert it to one of those")
    if not path.exists():
        raise SourceReadError(f"replay file {path}", "does not exist", got=str(path),
                              fix="check the path (relative paths start at the project)")
    binding = require_binding(source)
    time_field = source.schema[source.event_time].input_name
    key_field = None if binding.key is None else source.schema[binding.key].input_name
    con = connect()
    try:
        con.execute(render(exp.Create(
            this=exp.to_table("file_rows"), kind="TABLE",
            expression=exp.select(exp.Star(), exp.alias_(exp.Window(this=exp.RowNumber()),
                                                         "__n")).from_(
                exp.Table(this=func(reader, lit(str(path))))))))
        columns = [c for c in con.table("file_rows").columns if c != "__n"]
        if time_field not in columns:
            raise InputError(f"replay file {path}", f"must have the event-time column "
                             f"'{time_field}' of source '{source.name}'", got=columns,
                             fix="replay a file of that source's records")
        record = func("to_json", exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.to_identifier(c, quoted=True), expression=col(c))
            for c in columns]))
        when = _event_us(con, time_field, source.epoch_unit)
        key = (exp.null() if key_field is None
               else exp.cast(col(key_field), "VARCHAR"))
        query = exp.select(key, exp.cast(record, "VARCHAR"), when).from_(
            exp.to_table("file_rows")).order_by(when.copy(), col("__n"))
        if limit is not None:
            query = query.limit(limit)
        total = min(int(con.execute("SELECT count(*) FROM file_rows").fetchall()[0][0]),
                    limit if limit is not None else 1 << 62)
        rows = con.execute(render(query))
        while True:
            chunk = rows.fetchmany(batch)
            if not chunk:
                return
            yield total, [(k, text.encode(), int(t) if t is not None else 0)
                          for k, text, t in chunk]
    except duckdb.Error as exc:
        raise SourceReadError(f"replay file {path}", "cannot be read",
                              got=str(exc).splitlines()[0],
                              fix="check it is a well-formed file of its kind") from None
    finally:
        con.close()


_EPOCH_US = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}


def _event_us(con: duckdb.DuckDBPyConnection, column: str, unit: str) -> exp.Expr:
    """The event time in µs: a number is an epoch in the source's unit, else a time."""
    types = dict(zip(con.table("file_rows").columns, con.table("file_rows").types,
                     strict=True))
    if str(types[column]).upper() in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                                      "FLOAT", "DOUBLE") or str(types[column]).startswith(
                                          "DECIMAL"):
        return exp.cast(exp.Mul(this=col(column), expression=lit(_EPOCH_US[unit])), "BIGINT")
    return func("epoch_us", exp.cast(col(column), "TIMESTAMPTZ"))


def replay_file(log: StreamLog, source: Source, path: Path, *,
                speed: ReplaySpeed = ReplaySpeed(None), batch: int = 5_000,
                limit: int | None = None, progress: Progress | None = None) -> int:
    """Append ``path``'s records to ``log`` in event-time order; returns how many."""
    sent = 0
    first_event: int | None = None
    started = time.monotonic()
    step = batch if speed.factor is None else min(batch, 500)
    for total, records in _records(path, source, step, limit):
        if speed.factor is not None:
            if first_event is None:
                first_event = records[0][2]
            due = (records[-1][2] - first_event) / 1e6 / speed.factor
            wait = due - (time.monotonic() - started)
            if wait > 0:
                time.sleep(wait)
        sent += log.append([(k, payload) for k, payload, _ in records])
        if progress is not None:
            progress(sent, total)
    return sent
