"""Point-in-time training sets: every feature as of each spine row's timestamp.

A spine is a table of entity keys and a timestamp, with any other columns (labels,
ids) carried through unchanged. Each feature value is the view's window evaluated at
the spine row's time t: it sees the events at or before t, never later ones (see
docs/concepts.md). With ``as_of``, only records ingested at or before that instant
count, so a training set can be rebuilt as it could have been built then.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from confluens.core import Definitions, DType, FeatureView
from confluens.core.system_columns import INGESTED_AT
from confluens.duckdb_session import connect
from confluens.errors import InputError, UnknownNameError
from confluens.plan import plan_view, point_features
from confluens.plan.column_types import ARROW_TYPES
from confluens.project.instants import require_zone
from confluens.project.pandas_frames import arrow_from_pandas

__all__ = ["FeatureRef", "as_arrow_spine", "check_timezone", "parse_request",
           "resolve_features", "training_set"]

POINT = "__point"


class FeatureRef:
    """A requested feature: ``view:feature``, or ``view`` for all of a view's features.

    ``view[col]:feature`` (or ``view[col1,col2]`` for several key columns, in the
    entity's key order) reads the entity's keys from other spine columns, so one view
    can be joined twice (``location[origin_id]``, ``location[destination_id]``); its
    features are then named ``col__feature`` (``col1_col2__feature``). With
    ``full_names``, every name is prefixed by its view: ``view__feature``.
    """

    def __init__(self, view: FeatureView, names: list[str],
                 keys: Mapping[str, str] | None = None, *, full_names: bool = False) -> None:
        self.view = view
        self.names = names
        self.keys = dict(keys or {})  # entity key column -> spine column
        prefix = "_".join(self.keys[k] for k in view.entity.keys) + "__" if self.keys else ""
        self.prefix = (f"{view.name}__" if full_names else "") + prefix

    def spine_column(self, key: str) -> str:
        return self.keys.get(key, key)

    def output(self, name: str) -> str:
        """The column a feature of this request gets in a training set or vector."""
        return self.prefix + name

    @property
    def label(self) -> str:
        mapped = ",".join(self.keys[k] for k in self.view.entity.keys) if self.keys else ""
        return f"{self.view.name}[{mapped}]" if mapped else self.view.name


def parse_request(item: str) -> tuple[str, list[str], str]:
    """``view[col,...]:feature`` as (view, spine columns, feature); without brackets the
    columns are []; without ``:feature`` the feature is "" (all of the view's)."""
    if "[" not in item:
        view, _, feature = item.partition(":")
        return view, [], feature
    view, _, rest = item.partition("[")
    inside, closed, tail = rest.partition("]")
    columns = [c.strip() for c in inside.split(",")]
    if not closed or not all(columns) or (tail and not tail.startswith(":")):
        raise InputError("feature request", "maps keys as view[spine_column]:feature",
                         got=item, fix="write e.g. 'location[origin_id]:temperature'")
    return view, columns, tail[1:]


def resolve_features(definitions: Definitions, requested: Sequence[str], *,
                     full_names: bool = False) -> list[FeatureRef]:
    if not requested:
        raise InputError("features", "at least one feature is needed", got=[],
                         fix="pass e.g. 'customer_spending:count_7d' or 'customer_spending'")
    by_view: dict[tuple[str, tuple[str, ...]], FeatureRef] = {}
    for item in requested:
        view_name, columns, feature = parse_request(item)
        view = definitions.feature_view(view_name)
        if columns and len(columns) != len(view.entity.keys):
            raise InputError(f"feature request '{item}'", f"maps the {len(view.entity.keys)} "
                             f"key column(s) of entity '{view.entity.name}', in order",
                             got=columns, fix=f"name one spine column for each of "
                             f"{list(view.entity.keys)}")
        keys = dict(zip(view.entity.keys, columns, strict=True)) if columns else None
        ref = by_view.setdefault((view_name, tuple(columns)),
                                 FeatureRef(view, [], keys, full_names=full_names))
        names = view.feature_names if not feature else [feature]
        for name in names:
            if name not in view.feature_names:
                raise UnknownNameError(f"feature view '{view_name}'", "has no such feature",
                                       got=name, fix=f"use one of {view.feature_names}")
            if name not in ref.names:
                ref.names.append(name)
    seen: dict[str, str] = {}
    for ref in by_view.values():
        for name in map(ref.output, ref.names):
            if name in seen:
                raise InputError("features", f"two requests give a feature named '{name}'",
                                 got=[seen[name], ref.label],
                                 fix="give one of them another name with name=, or pass "
                                 "full_names=True (view__feature)")
            seen[name] = ref.label
    return list(by_view.values())


def as_arrow_spine(spine: Any) -> pa.Table:
    """A spine from an Arrow table, a pandas DataFrame, or a Parquet/CSV path.

    A path ending in ``.csv`` is read as CSV (with types detected, so ISO timestamps
    become timestamps); any other path must be a Parquet file.
    """
    if isinstance(spine, pa.Table):
        return spine
    if isinstance(spine, str | Path):
        return _read_spine_file(Path(spine))
    if type(spine).__module__.startswith("pandas"):
        return arrow_from_pandas(spine)
    raise InputError("spine", "must be an Arrow table, a pandas DataFrame or a file path",
                     got=type(spine).__name__, fix="pass one of those")


def _read_spine_file(path: Path) -> pa.Table:
    if not path.is_file():
        raise InputError("spine", "is a folder, not a file" if path.is_dir()
                         else "file does not exist", got=str(path),
                         fix="pass the path of a Parquet or CSV file "
                         "(`confluens spine SOURCE --out spine.parquet` writes one)")
    if path.suffix.lower() == ".csv":
        con = connect()
        try:
            return con.read_csv(str(path), sep=",", header=True).to_arrow_table()
        except duckdb.Error as exc:
            raise InputError("spine", "could not be read as CSV", got=str(path),
                             fix=_csv_problem(path) or f"check the file "
                             f"({str(exc).splitlines()[0]})") from None
        finally:
            con.close()
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError):
        raise InputError("spine", "must be a Parquet file, or CSV with a .csv extension",
                         got=str(path), fix="write the spine as Parquet, or name a CSV "
                         "file *.csv") from None


def _csv_problem(path: Path) -> str | None:
    """The first line whose field count differs from the header's, as a fix to make."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = csv.reader(fh)
            header = next(rows, [])
            for row in rows:
                if row and len(row) != len(header):
                    return (f"line {rows.line_num} has {len(row)} fields where the header "
                            f"names {len(header)}; correct or remove that line")
    except (UnicodeDecodeError, csv.Error) as exc:
        return f"make it UTF-8 comma-separated text ({exc})"
    return None


def check_timezone(timezone: str | None, what: str = "timezone") -> None:
    """Refuse a zone name that is not in the IANA database, before any work is done."""
    if timezone is None:
        return
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(what, "must be an IANA time zone name", got=timezone,
                         fix="use e.g. 'UTC', 'Europe/Paris' or 'America/New_York'") from None


def _spine_times(spine: pa.Table, at: str | None, timezone: str | None) -> tuple[str, pa.Array]:
    stamps = [f.name for f in spine.schema if pa.types.is_timestamp(f.type)]
    if at is None:
        if len(stamps) != 1:
            raise InputError("spine", "needs exactly one timestamp column, or at= naming it",
                             got=stamps, fix="pass at='<column>'")
        at = stamps[0]
    if at not in spine.column_names:
        raise InputError("spine", "lacks the timestamp column", got=at,
                         fix=f"add it, or pass at= one of {spine.column_names}")
    column = spine.column(at)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        try:
            column = pc.cast(column, pa.timestamp("us"))
        except pa.ArrowInvalid:
            raise InputError(f"spine column '{at}'", "holds text that is not a timestamp",
                             got=column[0].as_py() if len(column) else None,
                             fix="use ISO timestamps, e.g. 2024-01-31T12:00:00Z") from None
    if not pa.types.is_timestamp(column.type):
        raise InputError(f"spine column '{at}'", "must be a timestamp",
                         got=str(column.type), fix="cast it to a timestamp with a time zone")
    if column.null_count:
        raise InputError(f"spine column '{at}'", "needs a time on every row (a row without "
                         "one has no point in time to be evaluated at)",
                         got=f"{column.null_count} null(s)",
                         fix="drop those rows or fill in their times")
    if column.type.tz is None:
        if timezone is None:
            raise InputError(f"spine column '{at}'", "has no time zone, but stored event "
                             "times are UTC instants", got=str(column.type),
                             fix="give the spine's timestamps a zone (pandas: "
                             "s.dt.tz_localize('UTC')), or name the zone they are in: "
                             "--timezone Europe/Paris (Python: timezone='Europe/Paris')")
        con = connect()
        try:
            con.register("naive", pa.table({"t": column}))
            column = con.sql("SELECT timezone(?, t) AS t FROM naive",
                             params=[timezone]).to_arrow_table().column("t")
        except duckdb.Error:  # a zone Python knows but the engine does not
            raise InputError("timezone", "is not known to the engine", got=timezone,
                             fix="use a canonical IANA name, e.g. 'Europe/Paris'") from None
        finally:
            con.close()
    return at, pc.cast(column, pa.timestamp("us", tz="UTC"))


def training_set(refs: Sequence[FeatureRef], files_of: Any, spine: Any, *,
                 at: str | None = None, timezone: str | None = None,
                 as_of: datetime | None = None) -> pa.Table:
    """The spine, with one column per requested feature, as of each row's timestamp.

    ``refs`` come from ``resolve_features``; ``files_of(source_name)`` lists a source's
    stored Parquet files.
    """
    check_timezone(timezone)
    table = as_arrow_spine(spine)
    at, times = _spine_times(table, at, timezone)
    points = pa.array(range(table.num_rows), pa.int64())
    inputs = []
    for ref in refs:
        view = ref.view
        missing = [ref.spine_column(k) for k in view.entity.keys
                   if ref.spine_column(k) not in table.column_names]
        if missing:
            raise InputError("spine", f"lacks the key of entity '{view.entity.name}' "
                             f"(feature view '{view.name}')", got=missing,
                             fix=f"add the column(s) {missing} to the spine")
        for name in map(ref.output, ref.names):
            if name in table.column_names:
                raise InputError("spine", "already has a column named like a requested "
                                 "feature", got=name, fix="rename that spine column")
        keys = {k: _as_key(table.column(ref.spine_column(k)), view.source.schema[k].dtype,
                           ref.spine_column(k)) for k in view.entity.keys}
        inputs.append((ref, pa.table({**keys, "__at": times, POINT: points}),
                       _events(files_of(view.source.name), as_of)))

    def values_of(item: tuple[FeatureRef, pa.Table, pa.Table | list[str] | None]) -> pa.Table:
        ref, spine_points, events = item
        if events is None:
            return pa.table({POINT: points, **{n: pa.nulls(len(points)) for n in ref.names}})
        return point_features(plan_view(ref.view), events, spine_points)

    # views are independent: evaluate them side by side (the engines release the GIL)
    workers = max(1, min(len(inputs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        computed = list(pool.map(values_of, inputs))
    result = table
    for ref, values in zip(refs, computed, strict=True):
        for name in ref.names:
            result = result.append_column(ref.output(name), values.column(name))
    return result


def _as_key(column: pa.ChunkedArray, dtype: DType, name: str) -> pa.ChunkedArray:
    """Spine keys in the source's type, so they match the stored ones exactly."""
    try:
        return pc.cast(column, ARROW_TYPES[dtype])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InputError(f"spine column '{name}'", f"must hold {dtype.value} keys like the "
                         "source", got=str(column.type),
                         fix=f"convert the column to {dtype.value}") from None


def _events(files: list[str], as_of: datetime | None) -> pa.Table | list[str] | None:
    if not files:
        return None
    if as_of is None:
        return files
    require_zone(as_of, "as_of", fix="pass e.g. datetime(2024, 1, 31, tzinfo=timezone.utc)")
    con = connect()
    try:
        rel = con.read_parquet(files, union_by_name=True)
        rel = rel.filter(duckdb.ColumnExpression(INGESTED_AT)
                         <= duckdb.ConstantExpression(as_of))
        return rel.to_arrow_table()
    finally:
        con.close()
