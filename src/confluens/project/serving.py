"""Serving from a project: its online store as the scorer's feature reader, its
storage root as the prediction log's home, and the log read back as a table.

``OnlineFeatureReader`` reads a model's feature references (``view:feature``,
``view[col]:feature``) for a batch of rows in one store round trip
(``read_online_views``), each view's windows evaluated at the batch's time. Request
keys are named as a training set's spine names them: the entity's key columns, or
the columns a ``view[col]`` reference maps them from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from numbers import Integral
from typing import Any

import pyarrow as pa
import sqlglot.expressions as exp

from confluens.core import Definitions, DType, FeatureView
from confluens.duckdb_session import connect
from confluens.errors import DefinitionError, InputError
from confluens.lifecycle.serve import ModelProvider, ModelService, PredictionLog
from confluens.lifecycle.serve.log_table import FIXED
from confluens.project.online_state import read_online_views
from confluens.project.training import resolve_features
from confluens.sqlx import col, render, table_ref
from confluens.stores.offline import ParquetOfflineStore
from confluens.stores.online import OnlineStore

__all__ = ["OnlineFeatureReader", "model_service", "prediction_store", "read_predictions"]

PREDICTIONS = "predictions"  # under the storage root: one offline-store table per model


class OnlineFeatureReader:
    """The scorer's ``FeatureReader`` (lifecycle/serve/reader.py) over a project."""

    def __init__(self, definitions: Definitions, online: OnlineStore,
                 features: Sequence[str]) -> None:
        self.online = online
        # one read per (view, request columns of its keys); each ref: (group, feature)
        self._groups: list[tuple[FeatureView, tuple[str, ...]]] = []
        self._refs: list[tuple[int, str]] = []
        self.keys: dict[str, str] = {}
        index: dict[tuple[str, tuple[str, ...]], int] = {}
        for item in features:
            (ref,) = resolve_features(definitions, [item])
            if len(ref.names) != 1:
                raise DefinitionError(f"model input '{item}'", "names one feature",
                                      got=ref.names, fix="write 'view:feature' for each")
            view = ref.view
            columns = tuple(ref.spine_column(k) for k in view.entity.keys)
            for key, column in zip(view.entity.keys, columns, strict=True):
                kind = ("int64" if view.source.schema[key].dtype is DType.INT64
                        else "string")
                if self.keys.setdefault(column, kind) != kind:
                    raise DefinitionError(f"request key '{column}'", "keys two entities "
                                          "of different types", got=[self.keys[column], kind],
                                          fix="map one of them to another column with "
                                          "view[column]:feature")
            group = index.setdefault((view.name, columns), len(self._groups))
            if group == len(self._groups):
                self._groups.append((view, columns))
            self._refs.append((group, ref.names[0]))
        self._order = {column: i for i, column in enumerate(self.keys)}

    def key_values(self, keys: Mapping[str, Any]) -> tuple[Any, ...]:
        extra = [k for k in keys if k not in self.keys]
        if extra:
            raise InputError(f"keys.{extra[0]}", "is not an entity key of the model's "
                             "features", got=sorted(keys), fix=f"send exactly the keys "
                             f"{list(self.keys)}; put other values under \"fields\"")
        out = []
        for column, kind in self.keys.items():
            if column not in keys:
                raise InputError(f"keys.{column}", "the model's features are keyed by it",
                                 got=sorted(keys) or "no keys",
                                 fix=f"send \"keys\": {{\"{column}\": ...}} (all of "
                                 f"{list(self.keys)})")
            out.append(_key(column, kind, keys[column]))
        return tuple(out)

    def read(self, rows: Sequence[tuple[Any, ...]], at: datetime,
             ) -> list[tuple[list[Any], list[bool]]]:
        positions = [[self._order[c] for c in columns] for _, columns in self._groups]
        found = read_online_views(
            [(view, [[row[p] for p in where] for row in rows])
             for (view, _), where in zip(self._groups, positions, strict=True)],
            self.online, at)
        out = []
        for r in range(len(rows)):
            values = [found[g][r][name] for g, name in self._refs]
            present = [found[g].found[r] for g, _ in self._refs]
            out.append((values, present))
        return out


def _key(column: str, kind: str, value: Any) -> Any:
    """A request's key value as the stored key: an int64, or a string (a number sent
    for a string key is read as its text, e.g. 17 -> "17")."""
    if kind == "int64":
        if isinstance(value, Integral) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    elif isinstance(value, str):
        return value
    elif isinstance(value, Integral) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"keys.{column}", f"an entity key of type {kind}", got=value,
                     fix="send a JSON integer" if kind == "int64" else "send a JSON string")


def prediction_store(root: Any) -> ParquetOfflineStore:
    """The prediction log's offline store, under a project's storage root."""
    return ParquetOfflineStore(root / PREDICTIONS)


def model_service(project: Any, names: Sequence[str], models: ModelProvider, *,
                  log: bool | PredictionLog = True, **options: Any) -> ModelService:
    """A ``ModelService`` over ``project``: its online store, and its prediction log
    under ``<storage root>/predictions/`` (``log``: False for none, or another log).
    ``options`` go to ModelService."""
    if log is True:
        log = PredictionLog(prediction_store(project.config.store_root))
    return ModelService(
        names, models, lambda refs: OnlineFeatureReader(project.definitions, project.online,
                                                        refs),
        log=log or None, **options)


def read_predictions(root: Any, model: str) -> pa.Table:
    """``model``'s prediction log (schema: lifecycle/serve/log_table.py), oldest
    first; an empty table if nothing was logged yet."""
    files = prediction_store(root).files(model)
    if not files:
        return FIXED.empty_table()
    con = connect()
    try:
        con.register("logged", con.read_parquet(files, union_by_name=True,
                                                hive_partitioning=False))
        query = exp.select(exp.Star()).from_(table_ref("logged")).order_by(
            col("prediction_id"))
        return con.sql(render(query)).to_arrow_table()
    finally:
        con.close()
