"""The DuckDB working area of one ingest run: its tables, and the state kept across chunks.

State across chunks (so that a later chunk sees what an earlier one stored):

- ``stored(k, h)``: identity and content hash of every stored record;
- ``pending(record_hash)``: raw records waiting in quarantine;
- ``seen_<i>(v)``: the values of each Unique check's column.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import sqlglot.expressions as exp

from confluens.connectors.chunk import PARSE_ERROR, RECORD, ROW
from confluens.core import OnFail, Source, Unique
from confluens.core.system_columns import HASH, INGESTED_AT, KEY, RUN
from confluens.ingest.classify import raw_json, raw_record
from confluens.ingest.result import ChunkCounts
from confluens.plan.column_types import SQL_TYPES
from confluens.sqlx import col, func, ident, lit, render, table_ref, template
from confluens.stores.quarantine import QUARANTINE_SCHEMA

__all__ = ["Stage"]

_SYSTEM = (ROW, PARSE_ERROR, RECORD)



class Stage:
    def __init__(self, con: duckdb.DuckDBPyConnection, source: Source, run_id: str,
                 started: datetime) -> None:
        self.con = con
        self.source = source
        self.run_id = run_id
        self.started = started
        # quarantining Unique checks first, so warn-only ones count only stored records
        self.uniques = sorted((c for c in source.checks if isinstance(c, Unique)),
                               key=lambda c: c.on_fail is OnFail.WARN)
        self._unique_warnings: Counter[str] = Counter()
        self.raw_names: list[str] = []  # the raw columns of the chunk being ingested
        # the queries every chunk of the run (every batch of a stream) shares, built and
        # rendered once: key -> (the expression, its rendered CREATE texts by name/kind)
        self._built: dict[tuple[object, ...], exp.Expr] = {}
        self._texts: dict[tuple[int, str, str], str] = {}
        self._timezones: dict[str, str] = {}

    def close(self) -> None:
        self.con.close()

    def sql(self, expression: exp.Expr) -> None:
        self.con.execute(render(expression))

    def rows(self, expression: exp.Expr) -> list[tuple[object, ...]]:
        return self.con.execute(render(expression)).fetchall()

    def built(self, key: tuple[object, ...], build: Callable[[], exp.Expr]) -> exp.Expr:
        """The query ``build`` makes for ``key``, made once per stage: the chunks of a
        run share it (its rendered text too, in ``create``). ``key`` must hold all that
        the query depends on."""
        found = self._built.get(key)
        if found is None:
            if len(self._built) >= 64:
                self._built.clear()
                self._texts.clear()
            found = self._built[key] = build()
        return found

    def create(self, name: str, select: exp.Expr, timezone: str = "UTC",
               kind: str = "TABLE") -> None:
        """Create (or replace) temp table (or view) ``name`` from ``select`` in ``timezone``."""
        shared = any(e is select for e in self._built.values())
        text = self._texts.get((id(select), name, kind)) if shared else None
        if text is None:
            text = render(exp.Create(
                this=table_ref(name), kind=kind, expression=select, replace=True,
                properties=exp.Properties(expressions=[exp.TemporaryProperty()])))
            if shared:
                self._texts[(id(select), name, kind)] = text
        self._set_timezone(timezone)
        try:
            self.con.execute(text)
        finally:
            self._set_timezone("UTC")

    def _set_timezone(self, timezone: str) -> None:
        text = self._timezones.get(timezone)
        if text is None:
            text = self._timezones[timezone] = render(exp.Set(expressions=[exp.SetItem(
                this=exp.EQ(this=exp.column("TimeZone"), expression=lit(timezone)))]))
        self.con.execute(text)

    def raw_types(self, table: str) -> dict[str, str]:
        rows = self.con.table(table)
        return {name: str(dtype) for name, dtype in zip(rows.columns, rows.types, strict=True)
                if name not in _SYSTEM}

    # -- state across chunks ---------------------------------------------------------

    def load_state(self, store_files: list[str], pending: pa.Table) -> None:
        if store_files:
            stored = self.con.read_parquet(store_files, union_by_name=True)
            self.con.register("_stored_in", stored)
            self.sql(template("CREATE TEMP TABLE stored AS SELECT key_col AS k, "
                              "any_value(hash_col) AS h FROM src GROUP BY key_col",
                              key_col=col(KEY), hash_col=col(HASH),
                              src=table_ref("_stored_in")))
            for check in self.uniques:
                self.sql(template("CREATE TEMP TABLE seen AS SELECT DISTINCT value AS v "
                                  "FROM src WHERE value IS NOT NULL",
                                  seen=table_ref(self.seen_table(check)), value=col(check.column),
                                  src=table_ref("_stored_in")))
            self.con.unregister("_stored_in")
        else:
            self.con.execute("CREATE TEMP TABLE stored (k VARCHAR, h VARCHAR)")
            for check in self.uniques:
                field = self.source.schema[check.column]
                empty = exp.select(exp.alias_(exp.cast(exp.null(), SQL_TYPES[field.dtype]),
                                              "v")).limit(0)
                self.sql(exp.Create(this=table_ref(self.seen_table(check)), kind="TABLE",
                                    expression=empty, properties=exp.Properties(
                                        expressions=[exp.TemporaryProperty()])))
        self.con.register("_pending_in", pending.select(["record_hash"]))
        self.con.execute("CREATE TEMP TABLE pending AS SELECT record_hash FROM _pending_in")
        self.con.unregister("_pending_in")

    def seen_table(self, check: Unique) -> str:
        return f"seen_{self.uniques.index(check)}"

    def remember(self, quarantined: pa.Table) -> None:
        """Add this chunk's stored records and quarantined raw records to the state."""
        self.con.execute("INSERT INTO stored SELECT __key, __hash FROM final "
                         "WHERE __status = 'new'")
        for check in self.uniques:
            self.sql(template("INSERT INTO seen SELECT DISTINCT value FROM final "
                              "WHERE __status = 'new' AND value IS NOT NULL",
                              seen=table_ref(self.seen_table(check)), value=col(check.column)))
        self.con.register("_q", quarantined.select(["record_hash"]))
        self.con.execute("INSERT INTO pending SELECT record_hash FROM _q")
        self.con.unregister("_q")

    # -- status updates --------------------------------------------------------------

    def update_status(self, rows: exp.Expr, status: str) -> None:
        self.sql(exp.update("final", {"__status": lit(status)},
                            where=exp.In(this=exp.column("__row"),
                                         query=exp.Subquery(this=rows))))

    def set_statuses(self, statuses: exp.Expr) -> None:
        """Give each record in ``statuses(__row, __status)`` its status."""
        self.sql(exp.update("final", {"__status": col("__status", "s")},
                            from_=exp.From(this=exp.Subquery(
                                this=statuses, alias=exp.TableAlias(this=ident("s")))),
                            where=col(ROW, "final").eq(col(ROW, "s"))))

    def keep_records(self) -> None:
        """Give the records that broke a rule their raw ``__record`` and its md5, from the
        raw table (read by ``__row``, which names one record of the chunk)."""
        record = raw_record(self.raw_names, "raw")
        self._from_raw({RECORD: record, "__record_hash": func("md5", record.copy())},
                       col("__rejected", "final"))

    def _from_raw(self, values: dict[str, object], where: exp.Expr) -> None:
        """UPDATE final SET ``values`` (which may read table ``raw``, and must name the
        columns of ``final`` by table) for the records ``where`` holds."""
        self.sql(exp.update("final", values, from_=exp.From(this=table_ref("raw")), where=exp.and_(
            col(ROW, "final").eq(col(ROW, "raw")), where)))

    def _reject(self, rows: exp.Expr, rule: str, reason: exp.Expr) -> None:
        """Send records that passed the checks to quarantine after all (conflicts, Unique):
        ``reason`` names the columns of ``final`` by table."""
        # these records have no __record yet: their raw values as JSON, as they always were
        record = exp.Coalesce(this=col(RECORD, "final"),
                              expressions=[raw_json(self.raw_names, "raw")])
        self._from_raw({
            "__status": lit("rejected"),
            RECORD: record,
            "__record_hash": func("md5", record.copy()),
            "__reason": func("concat_ws", lit("; "), col("__reason", "final"), reason),
            "__rules": func("list_append", func("coalesce", col("__rules", "final"),
                                                exp.Array(expressions=[])), lit(rule)),
        }, exp.In(this=col(ROW, "final"), query=exp.Subquery(this=rows)))

    def mark_conflicts(self, source: Source) -> None:
        """Records whose id is known with other content go to quarantine as id_conflict."""
        if source.id is None:
            return
        reason = exp.DPipe(this=exp.DPipe(
            this=lit(f"id_conflict: {source.id} '"), expression=col("__key", "final"),
            safe=True),
            expression=lit("' was already ingested with different content"), safe=True)
        self._reject(template("SELECT __row FROM final WHERE __status = 'conflict'"),
                     "id_conflict", reason)

    def apply_unique(self, check: Unique, fails: exp.Expr) -> None:
        if check.on_fail is OnFail.WARN:
            rows = self.rows(exp.select(exp.Count(this=exp.Star())).from_(
                exp.Subquery(this=fails, alias=exp.TableAlias(this=exp.to_identifier("f")))))
            self._unique_warnings[check.rule] += int(rows[0][0])  # type: ignore[call-overload]
            return
        reason = exp.DPipe(this=exp.DPipe(
            this=lit(f"{check.rule}: value '"), expression=exp.cast(
                col(check.column, "final"), "VARCHAR"), safe=True),
            expression=lit("' was seen before"), safe=True)
        self._reject(fails, check.rule, reason)

    def reject_late(self, event_time: str, before_us: int, allowed: str) -> None:
        """Records not yet rejected whose event time is before ``before_us`` go to
        quarantine as ``late`` (a stream's allowed lateness behind its watermark)."""
        late = exp.select(exp.column("__row")).from_(table_ref("final")).where(exp.and_(
            exp.column("__status").eq(lit("new")),
            exp.LT(this=func("epoch_us", col(event_time)), expression=lit(before_us))))
        shown = exp.cast(col(event_time, "final"), "VARCHAR")
        reason = exp.DPipe(this=exp.DPipe(
            this=lit(f"late: {event_time} "), expression=shown, safe=True),
            expression=lit(f" is more than {allowed} behind the stream's watermark"), safe=True)
        self._reject(late, "late", reason)

    # -- results ---------------------------------------------------------------------

    def counts(self, rows_in: int) -> ChunkCounts:
        by_status = dict(self.con.execute(
            "SELECT __status, count(*) FROM final GROUP BY __status").fetchall())
        rules = Counter({str(r): int(n) for r, n in self.con.execute(
            "SELECT r, count(*) FROM (SELECT unnest(__rules) AS r FROM final "
            "WHERE __status = 'rejected') GROUP BY r").fetchall()})
        warnings: Counter[str] = Counter(self._unique_warnings)
        self._unique_warnings.clear()
        warn_columns = [c for c in self.con.table("final").columns if c.startswith("__warn_")]
        if warn_columns:
            stored = exp.column("__status").eq(lit("new"))
            sums = self.rows(exp.select(*[
                func("count_if", exp.and_(col(c), stored.copy())) for c in warn_columns]
            ).from_(table_ref("final")))[0]
            for c, n in zip(warn_columns, sums, strict=True):  # n: NULL over no records
                warnings[c.removeprefix("__warn_")] += int(n or 0)  # type: ignore[call-overload]
        return ChunkCounts(rows_in=rows_in, accepted=int(by_status.get("new", 0)),
                           quarantined=int(by_status.get("rejected", 0)),
                           duplicates=int(by_status.get("duplicate", 0)),
                           rules=rules, warnings=warnings)

    def quarantined(self, label: str) -> pa.Table:
        query = template(
            "SELECT src AS source, run AS run_id, label AS input, __row AS position, "
            "__rules[1] AS rule, __rules AS rules, __reason AS reason, __record AS record, "
            "__record_hash AS record_hash, at AS quarantined_at FROM final "
            "WHERE __status = 'rejected' ORDER BY __row",
            src=lit(self.source.name), run=lit(self.run_id), label=lit(label),
            at=exp.cast(lit(datetime.now(UTC).isoformat()), "TIMESTAMPTZ"))
        return self.con.sql(render(query)).to_arrow_table().cast(QUARANTINE_SCHEMA)

    def accepted(self) -> pa.Table:
        query = exp.select(
            *[col(f.name) for f in self.source.schema],
            exp.alias_(exp.column("__key"), KEY, quoted=True),
            exp.alias_(exp.column("__hash"), HASH, quoted=True),
            exp.alias_(exp.cast(lit(self.started.isoformat()), "TIMESTAMPTZ"), INGESTED_AT,
                       quoted=True),
            exp.alias_(lit(self.run_id), RUN, quoted=True),
        ).from_(table_ref("final")).where(exp.column("__status").eq(lit("new"))).order_by("__row")
        return self.con.sql(render(query)).to_arrow_table()

