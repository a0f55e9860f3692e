"""Files: CSV, Parquet and JSON lines, one path or a glob of them.

Text files (CSV, JSON lines) are decoded in the source's ``encoding`` first (see
text.py).

CSV is read with every column as text, so type errors are confluens' to report,
one record at a time; malformed lines (too many or too few fields) become
records with a parse error. JSON lines are read one line at a time; a line that
is not a JSON object becomes a record with a parse error.
"""

from __future__ import annotations

import codecs
import csv
import glob
from collections.abc import Sequence
from pathlib import Path

import duckdb
import sqlglot.expressions as exp

from confluens.connectors.chunk import PARSE_ERROR, RECORD, ROW, RawChunk, loader
from confluens.connectors.text import check_text_head, read_head, readable_utf8
from confluens.errors import SchemaMismatchError, SourceReadError
from confluens.sqlx import ident, table_ref, template

__all__ = ["FORMATS", "file_chunks", "resolve_paths"]

FORMATS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet",
           ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


# one record per malformed line (DuckDB reports one row per error in a line)
_BAD_LINES = ("SELECT line, arg_min(error_message, column_idx), any_value(csv_line) "
              "FROM rejects GROUP BY line ORDER BY line")
# good record k moves past the malformed ones read before it: shifts(gap, shift) says
# that from the gap-th good record on, `shift` malformed records come first
_SHIFT_GOOD = ("SELECT g.* REPLACE (g.__row + coalesce(s.shift, 0) AS __row) "
               "FROM good AS g ASOF LEFT JOIN shifts AS s ON g.__row >= s.gap")


def _named(name: str, value: exp.Expr) -> exp.Expr:
    return exp.EQ(this=exp.column(name), expression=value)


def _sql(expression: exp.Expr) -> str:
    return expression.sql(dialect="duckdb")


def resolve_paths(spec: str, base: Path) -> list[Path]:
    """The files a path or glob names, relative to ``base``, sorted.

    A match that is a directory named like a data file (``x.csv/``, as Spark writes
    them) is an error rather than skipped: its records would be silently left out.
    """
    pattern = spec if Path(spec).is_absolute() else str(base / spec)
    matches = [Path(p) for p in glob.glob(pattern, recursive=True)]
    folders = sorted(p for p in matches if p.is_dir() and p.suffix.lower() in FORMATS)
    if folders:
        raise SourceReadError(f"input {spec}", "must name files, but names a directory",
                              got=str(folders[0]), fix=f"ingest the files inside it, e.g. "
                              f"'{Path(spec) / ('*' + folders[0].suffix)}'")
    paths = sorted(p for p in matches if p.is_file())
    if not paths:
        raise SourceReadError("input", "no file matches this path or glob", got=spec,
                              fix=f"check the path (relative paths start at {base})")
    for p in paths:
        if p.suffix.lower() not in FORMATS:
            raise SourceReadError("input", "file type must be one of " + ", ".join(FORMATS),
                                  got=str(p), fix="convert the file or rename its extension")
    return paths


def file_chunks(paths: Sequence[Path], columns: Sequence[str], base: Path | None = None,
                *, encoding: str = "utf-8", source: str | None = None) -> list[RawChunk]:
    """One chunk per file; ``columns`` are the schema's input columns.

    Every file is inspected first, before any chunk is read: a directory, an unreadable
    or binary file, a CSV without a usable header or without the schema's columns, and
    bytes that do not decode in the first 64 KiB are refused here, so a glob with such
    a file commits nothing. A file of zero bytes, or a CSV with a header only,
    contributes no records. Chunks are labelled with paths relative to ``base`` where
    the file lies below it.
    """
    chunks = []
    for path in paths:
        kind = FORMATS[path.suffix.lower()]
        label = str(path.relative_to(base)) if base and path.is_relative_to(base) else str(path)
        head = read_head(path)
        if not head:
            chunks.append(RawChunk(label, loader(_load_nothing, columns),
                                   per_record_columns=True))
        elif kind == "csv":
            _check_csv_head(path, head, encoding, columns, label, source)
            chunks.append(RawChunk(label, loader(_load_csv, path, encoding)))
        elif kind == "parquet":
            _check_parquet_head(path, head)
            chunks.append(RawChunk(label, loader(_load_parquet, path)))
        else:
            check_text_head(path, head, encoding, "JSON-lines")
            chunks.append(RawChunk(label, loader(_load_jsonl, path, columns, encoding),
                                   per_record_columns=True))
    return chunks


def _check_csv_head(path: Path, head: bytes, encoding: str, columns: Sequence[str],
                    label: str, source: str | None) -> None:
    check_text_head(path, head, encoding, "CSV")
    header = _csv_header(path, _delimiter(path), encoding)
    if not columns or set(header) & set(columns):
        missing = [c for c in columns if c not in header]
        if missing:
            raise SchemaMismatchError(
                f"input {label}" + (f" for source '{source}'" if source else ""),
                f"lacks the schema's columns {missing}", got=sorted(header),
                fix="add those columns to the input, or map a differently named column "
                "with Field(name, type, raw='Name In File')")
        return
    raise SourceReadError(f"input {path.name}", "does not look like a CSV file of this "
                          "source: its first line names none of the schema's columns "
                          f"{list(columns)}", got=", ".join(header)[:80],
                          fix="check the file is a CSV with a header row, and that it "
                          "belongs to this source")


def _check_parquet_head(path: Path, head: bytes) -> None:
    if not head.startswith(b"PAR1"):
        raise SourceReadError(f"input {path.name}", "does not look like a Parquet file: it "
                              "does not start with the bytes PAR1", got=head[:16],
                              fix="check the file, or give it the extension of its format "
                              "(.csv, .jsonl)")


def _delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _load_nothing(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]) -> int:
    """An empty file: a raw table with no records."""
    con.execute(_sql(_create(f"{table}_in", exp.select(
        exp.alias_(exp.cast(exp.null(), "VARCHAR"), ident("line"))).limit(0))))
    json_lines_to_raw(con, table, f"{table}_in", exp.column("rowid"), columns)
    return 0


def _execute(con: duckdb.DuckDBPyConnection, statement: exp.Expr, path: Path) -> None:
    try:
        con.execute(_sql(statement))
    except duckdb.Error as exc:
        raise SourceReadError(f"input {path.name}", "could not be read",
                              got=str(exc).splitlines()[0],
                              fix="check the file is a valid "
                              f"{FORMATS[path.suffix.lower()]} file") from None


def _create(table: str, select: exp.Expr) -> exp.Expr:
    return exp.Create(this=table_ref(table), kind="TABLE", expression=select, replace=True,
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))


def _with_row(table: str, extra: list[exp.Expr]) -> exp.Select:
    return exp.select(exp.Star(), exp.alias_(exp.column("rowid"), ident(ROW)), *extra).from_(
        table_ref(table))


def _load_parquet(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> int:
    reader = exp.select(exp.Star()).from_(exp.func("read_parquet", exp.Literal.string(str(path))))
    _execute(con, _create(f"{table}_in", reader), path)
    nulls = [exp.alias_(exp.cast(exp.null(), "VARCHAR"), ident(c)) for c in (PARSE_ERROR,
                                                                              RECORD)]
    _execute(con, _create(table, _with_row(f"{table}_in", nulls)), path)
    return _count(con, table)


def _load_csv(con: duckdb.DuckDBPyConnection, table: str, path: Path, encoding: str) -> int:
    with readable_utf8(path, encoding) as readable:
        return _load_utf8_csv(con, table, path, readable)


def _load_utf8_csv(con: duckdb.DuckDBPyConnection, table: str, path: Path,
                   readable: Path) -> int:
    rejects = f"{table}_rejects"
    for name in (rejects, f"{rejects}_scan"):  # DuckDB appends to existing rejects tables
        _execute(con, exp.Drop(tables=[table_ref(name)], kind="TABLE", exists=True), path)
    delim = _delimiter(path)
    header = _csv_header(readable, delim, "utf-8")
    reader = exp.select(exp.Star()).from_(exp.func(
        "read_csv", exp.Literal.string(str(readable)),
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
    nulls = [exp.alias_(exp.cast(exp.null(), "VARCHAR"), ident(c)) for c in (PARSE_ERROR,
                                                                              RECORD)]
    _execute(con, _create(table, _with_row(f"{table}_in", nulls)), path)
    bad = con.execute(_sql(template(_BAD_LINES, rejects=table_ref(rejects)))).fetchall()
    if bad:
        _number_in_file_order(con, table, path, readable, len(header) == 1, bad)
    return _count(con, table)


def _number_in_file_order(con: duckdb.DuckDBPyConnection, table: str, path: Path,
                          readable: Path, single_column: bool,
                          bad: list[tuple[int, str, str]]) -> None:
    """Add the malformed lines ``bad`` (DuckDB's line number, error, text) to ``table``
    of the good records, and number every record by its place in the file: the good
    ones DuckDB read, in order, move past the malformed ones that came before them."""
    import pyarrow as pa

    places = _record_places(readable, _delimiter(path), [line for line, _, _ in bad],
                            single_column)
    shifts: dict[int, int] = {}
    for i, place in enumerate(places):  # place - i good records come before malformed i
        shifts[place - i] = i + 1
    con.register(f"{table}_shifts", pa.table({
        "gap": pa.array(list(shifts), pa.int64()),
        "shift": pa.array(list(shifts.values()), pa.int64())}))
    con.register(f"{table}_bad", pa.table({
        ROW: pa.array(places, pa.int64()),
        PARSE_ERROR: pa.array([error for _, error, _ in bad], pa.string()),
        # DuckDB starts a line's text with the blank lines before it
        RECORD: pa.array([text and text.lstrip("\r\n") for _, _, text in bad],
                         pa.string())}))
    try:
        _execute(con, _create(table, template(_SHIFT_GOOD, good=table_ref(table),
                                              shifts=table_ref(f"{table}_shifts"))), path)
        _execute(con, exp.Insert(
            this=exp.Schema(this=table_ref(table),
                            expressions=[ident(ROW), ident(PARSE_ERROR), ident(RECORD)]),
            expression=exp.select(ident(ROW), ident(PARSE_ERROR), ident(RECORD)).from_(
                table_ref(f"{table}_bad"))), path)
    finally:
        con.unregister(f"{table}_shifts")
        con.unregister(f"{table}_bad")


def _record_places(readable: Path, delim: str, lines: list[int],
                   single_column: bool) -> list[int]:
    """The place (0-based, among the file's records) of each record DuckDB rejected at
    ``lines`` (increasing). DuckDB counts the header and every blank line in its line
    numbers, and a quoted field's line breaks not; Python's csv reader splits records
    the same way, so its n-th row is DuckDB's line n + 1. A blank line is no record
    (unless the file has one column: DuckDB reads it as a null). If the reader stops
    on something it cannot read, the places are taken as DuckDB's lines minus the
    header, which is exact for a file without blank lines."""
    wanted = dict.fromkeys(lines, -1)
    place = 0
    try:
        with readable.open(newline="", encoding="utf-8-sig") as fh:
            for index, row in enumerate(csv.reader(fh, delimiter=delim)):
                if index == 0:
                    continue  # the header
                if index + 1 in wanted:
                    wanted[index + 1] = place
                if row or single_column:
                    place += 1
                if index + 1 >= lines[-1]:
                    break
    except (csv.Error, UnicodeDecodeError):
        pass
    places = list(wanted.values())
    if any(p < 0 for p in places) or places != sorted(set(places)):
        return [line - 2 for line in lines]
    return places


def _csv_header(path: Path, delim: str, encoding: str) -> list[str]:
    """The header row, read with Python's csv module (DuckDB's sniffer can be misled by a
    small file whose bad lines are a large share of it)."""
    codec = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    try:
        with path.open(newline="", encoding=codec) as fh:
            header = next(csv.reader(fh, delimiter=delim), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SourceReadError(f"input {path.name}", "has no readable header row",
                              got=str(exc), fix="check the file is a CSV file in the "
                              "source's encoding") from None
    if not header:
        raise SourceReadError(f"input {path.name}", "a CSV file needs a header row", got="",
                              fix="add a first line naming the columns")
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise SourceReadError(f"input {path.name}", "header names must be unique",
                              got=duplicated, fix="rename the repeated columns")
    return header


def _load_jsonl(con: duckdb.DuckDBPyConnection, table: str, path: Path,
                columns: Sequence[str], encoding: str) -> int:
    with readable_utf8(path, encoding) as readable:
        return _load_utf8_jsonl(con, table, path, readable, columns)


def _load_utf8_jsonl(con: duckdb.DuckDBPyConnection, table: str, path: Path, readable: Path,
                     columns: Sequence[str]) -> int:
    lines = exp.select(exp.Star()).from_(exp.func(
        "read_csv", exp.Literal.string(str(readable)),
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
                      row: exp.Expr, columns: Sequence[str]) -> None:
    """Create ``table`` from table ``lines(line, ...)``: one column per name in ``columns``
    (the value at that key as text; null where absent, and in every column of a line
    that is not a JSON object). Each line is parsed once for all the columns."""
    line = exp.column("line")
    is_object = exp.alias_(exp.Coalesce(this=exp.Case(
        ifs=[exp.If(this=exp.func("json_valid", line),
                    true=exp.EQ(this=exp.func("json_type", line.copy()),
                                expression=exp.Literal.string("OBJECT")))]),
        expressions=[exp.false()]), "__object")
    checked = exp.select(exp.alias_(row, "__position"), exp.alias_(line.copy(), "line"),
                         is_object).from_(table_ref(lines))
    paths = exp.Array(expressions=[exp.Literal.string(f'$."{c}"') for c in columns])
    extracted = exp.select("__position", "line", "__object", exp.alias_(exp.If(
        this=exp.column("__object"), true=exp.func("json_extract_string", line.copy(), paths)),
        "__values")).from_(exp.Subquery(this=checked, alias=exp.TableAlias(
            this=exp.to_identifier("checked"))))
    fields = [exp.alias_(exp.Bracket(this=exp.column("__values"),
                                     expressions=[exp.Literal.number(i)]), ident(c))
              for i, c in enumerate(columns)]
    select = exp.select(
        *fields, exp.alias_(exp.column("__position"), ident(ROW)),
        exp.alias_(exp.If(this=exp.Not(this=exp.column("__object")),
                          true=exp.Literal.string("not a JSON object")), ident(PARSE_ERROR)),
        exp.alias_(line.copy(), ident(RECORD)),
    ).from_(exp.Subquery(this=extracted, alias=exp.TableAlias(
        this=exp.to_identifier("extracted"))))
    con.execute(_sql(_create(table, select)))


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    rows = con.execute(_sql(exp.select(exp.Count(this=exp.Star())).from_(
        table_ref(table)))).fetchall()
    return int(rows[0][0])
