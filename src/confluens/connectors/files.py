"""Files: CSV, Parquet and JSON lines, one path or a glob of them.

CSV is read with every column as text, so type errors are confluens' to report,
one record at a time; malformed lines (too many or too few fields) become
records with a parse error. JSON lines are read one line at a time; a line that
is not a JSON object becomes a record with a parse error.
"""

from __future__ import annotations

import csv
import glob
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import sqlglot.expressions as exp

from confluens.connectors.chunk import PARSE_ERROR, RECORD, ROW, RawChunk
from confluens.errors import SourceReadError
from confluens.sqlx import table_ref, template

__all__ = ["FORMATS", "file_chunks", "resolve_paths"]

FORMATS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet",
           ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


_BAD_LINES = (
    "SELECT good + row_number() OVER (ORDER BY line) - 1, "
    "'line ' || line || ': ' || arg_min(error_message, column_idx), any_value(csv_line) "
    "FROM rejects GROUP BY line")


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _named(name: str, value: exp.Expression) -> exp.Expression:
    return exp.EQ(this=exp.column(name), expression=value)


def _sql(expression: exp.Expression) -> str:
    return expression.sql(dialect="duckdb")


def resolve_paths(spec: str, base: Path) -> list[Path]:
    """The files a path or glob names, relative to ``base``, sorted."""
    pattern = spec if Path(spec).is_absolute() else str(base / spec)
    paths = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    if not paths:
        raise SourceReadError("input", "no file matches this path or glob", got=spec,
                              fix=f"check the path (relative paths start at {base})")
    for p in paths:
        if p.suffix.lower() not in FORMATS:
            raise SourceReadError("input", "file type must be one of " + ", ".join(FORMATS),
                                  got=str(p), fix="convert the file or rename its extension")
    return paths


def file_chunks(paths: Sequence[Path], columns: Sequence[str],
                base: Path | None = None) -> Iterator[RawChunk]:
    """One chunk per file; ``columns`` are the input columns a JSON line may carry.

    Chunks are labelled with paths relative to ``base`` where the file lies below it.
    """
    for path in paths:
        kind = FORMATS[path.suffix.lower()]
        label = str(path.relative_to(base)) if base and path.is_relative_to(base) else str(path)
        if kind == "csv":
            yield RawChunk(label, lambda con, t, p=path: _load_csv(con, t, p))
        elif kind == "parquet":
            yield RawChunk(label, lambda con, t, p=path: _load_parquet(con, t, p))
        else:
            yield RawChunk(label, lambda con, t, p=path: _load_jsonl(con, t, p, columns),
                           per_record_columns=True)


def _execute(con: duckdb.DuckDBPyConnection, statement: exp.Expression, path: Path) -> None:
    try:
        con.execute(_sql(statement))
    except duckdb.Error as exc:
        raise SourceReadError(f"input {path.name}", "could not be read",
                              got=str(exc).splitlines()[0],
                              fix="check the file is a valid "
                              f"{FORMATS[path.suffix.lower()]} file") from None


def _create(table: str, select: exp.Expression) -> exp.Expression:
    return exp.Create(this=table_ref(table), kind="TABLE", expression=select, replace=True,
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))


def _with_row(table: str, extra: list[exp.Expression]) -> exp.Select:
    return exp.select(exp.Star(), exp.alias_(exp.column("rowid"), _ident(ROW)), *extra).from_(
        table_ref(table))


def _load_parquet(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> int:
    reader = exp.select(exp.Star()).from_(exp.func("read_parquet", exp.Literal.string(str(path))))
    _execute(con, _create(f"{table}_in", reader), path)
    nulls = [exp.alias_(exp.cast(exp.null(), "VARCHAR"), _ident(c)) for c in (PARSE_ERROR,
                                                                              RECORD)]
    _execute(con, _create(table, _with_row(f"{table}_in", nulls)), path)
    return _count(con, table)


def _load_csv(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> int:
    rejects = f"{table}_rejects"
    for name in (rejects, f"{rejects}_scan"):  # DuckDB appends to existing rejects tables
        _execute(con, exp.Drop(tables=[table_ref(name)], kind="TABLE", exists=True), path)
    delim = "\t" if path.suffix.lower() == ".tsv" else ","
    header = _csv_header(path, delim)
    reader = exp.select(exp.Star()).from_(exp.func(
        "read_csv", exp.Literal.string(str(path)),
        _named("header", exp.true()), _named("auto_detect", exp.false()),
        _named("delim", exp.Literal.string(delim)), _named("quote", exp.Literal.string('"')),
        _named("escape", exp.Literal.string('"')),
        _named("columns", exp.Struct(expressions=[exp.PropertyEQ(
            this=exp.Literal.string(name), expression=exp.Literal.string("VARCHAR"))
            for name in header])),
        _named("store_rejects", exp.true()),
        _named("rejects_table", exp.Literal.string(rejects)),
        _named("rejects_scan", exp.Literal.string(f"{rejects}_scan")),
    ))
    _execute(con, _create(f"{table}_in", reader), path)
    nulls = [exp.alias_(exp.cast(exp.null(), "VARCHAR"), _ident(c)) for c in (PARSE_ERROR,
                                                                              RECORD)]
    _execute(con, _create(table, _with_row(f"{table}_in", nulls)), path)
    good = _count(con, table)
    # one record per malformed line (DuckDB reports one row per error in a line)
    bad = template(_BAD_LINES, good=exp.Literal.number(good),
                   rejects=table_ref(rejects))
    insert = exp.Insert(
        this=exp.Schema(this=table_ref(table),
                        expressions=[_ident(ROW), _ident(PARSE_ERROR), _ident(RECORD)]),
        expression=bad)
    _execute(con, insert, path)
    return _count(con, table)


def _csv_header(path: Path, delim: str) -> list[str]:
    """The header row, read with Python's csv module (DuckDB's sniffer can be misled by a
    small file whose bad lines are a large share of it)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh, delimiter=delim), [])
    if not header:
        raise SourceReadError(f"input {path.name}", "a CSV file needs a header row", got="",
                              fix="add a first line naming the columns")
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise SourceReadError(f"input {path.name}", "header names must be unique",
                              got=duplicated, fix="rename the repeated columns")
    return header


def _load_jsonl(con: duckdb.DuckDBPyConnection, table: str, path: Path,
                columns: Sequence[str]) -> int:
    lines = exp.select(exp.Star()).from_(exp.func(
        "read_csv", exp.Literal.string(str(path)),
        _named("header", exp.false()), _named("delim", exp.Literal.string("\x01")),
        _named("quote", exp.Literal.string("")), _named("escape", exp.Literal.string("")),
        _named("auto_detect", exp.false()),
        _named("columns", exp.Struct(expressions=[exp.PropertyEQ(
            this=exp.Literal.string("line"), expression=exp.Literal.string("VARCHAR"))])),
    )).where(exp.func("length", exp.func("trim", exp.column("line"))).neq(0))
    _execute(con, _create(f"{table}_in", lines), path)
    json_lines_to_raw(con, table, f"{table}_in", exp.column("rowid"), columns)
    return _count(con, table)


def json_lines_to_raw(con: duckdb.DuckDBPyConnection, table: str, lines: str,
                      row: exp.Expression, columns: Sequence[str]) -> None:
    """Create ``table`` from table ``lines(line, ...)``: one column per name in ``columns``."""
    line = exp.column("line")
    is_object = exp.Coalesce(this=exp.Case(
        ifs=[exp.If(this=exp.func("json_valid", line),
                    true=exp.EQ(this=exp.func("json_type", line),
                                expression=exp.Literal.string("OBJECT")))]),
        expressions=[exp.false()])
    fields = [exp.alias_(exp.If(this=is_object.copy(), true=exp.func(
        "json_extract_string", line, exp.Literal.string(f'$."{c}"'))), _ident(c))
        for c in columns]
    select = exp.select(
        *fields, exp.alias_(row, _ident(ROW)),
        exp.alias_(exp.If(this=exp.Not(this=exp.Paren(this=is_object.copy())),
                          true=exp.Literal.string("not a JSON object")), _ident(PARSE_ERROR)),
        exp.alias_(line, _ident(RECORD)),
    ).from_(table_ref(lines))
    con.execute(_sql(_create(table, select)))


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    rows = con.execute(_sql(exp.select(exp.Count(this=exp.Star())).from_(
        table_ref(table)))).fetchall()
    return int(rows[0][0])
