"""A model's input columns: where each one's value comes from, and the frame (or the
float matrix) they make.

Each of a model's ``features`` gives the column of the same position in ``columns``:

- ``"view:feature"`` (or ``"view[col]:feature"``, as in training sets): the online
  feature, evaluated at the request's time, unless the request's ``fields`` hold a
  value under the column's name, which then overrides it;
- ``"request:field"``: the request's field ``field``; it must be given.

>>> inputs = ModelInputs(("spend:n_7d", "request:amount"), ("n_7d", "amount"))
>>> inputs.online
('spend:n_7d',)
>>> frame, rows = inputs.frame([{"amount": 5.0}], [[3]])
>>> frame.to_dict("records"), rows
([{'n_7d': 3.0, 'amount': 5.0}], [{'n_7d': 3, 'amount': 5.0}])
>>> inputs.matrix(inputs.rows([{"amount": 5.0}], [[None]]))
array([[nan,  5.]])

``matrix`` is what a model that takes a float array scores (a LightGBM booster):
no pandas frame on the way; it is None when a value is not a number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from confluens.errors import DefinitionError, InputError

__all__ = ["REQUEST", "ModelInputs"]

REQUEST = "request:"


class ModelInputs:
    """The plan of one model's input columns (see the module docstring)."""

    def __init__(self, features: Sequence[str], columns: Sequence[str], *,
                 model: str = "model") -> None:
        if len(features) != len(columns):
            raise DefinitionError(f"model '{model}'", "needs one input column per feature",
                                  got={"features": len(features), "columns": len(columns)},
                                  fix="give the columns in the order of the features")
        if len(set(columns)) != len(columns):
            raise DefinitionError(f"model '{model}'", "input column names must not repeat",
                                  got=list(columns), fix="rename the repeated columns")
        self.features = tuple(features)
        self.columns = tuple(columns)
        online: list[str] = []
        # per column: ("online", index into online) or ("request", field name)
        self.sources: list[tuple[str, int | str]] = []
        for ref in self.features:
            if ref.startswith(REQUEST):
                name = ref[len(REQUEST):]
                if not name:
                    raise DefinitionError(f"model '{model}'", "a request input names its "
                                          "field", got=ref, fix="write e.g. 'request:amount'")
                self.sources.append(("request", name))
            else:
                self.sources.append(("online", len(online)))
                online.append(ref)
        self.online = tuple(online)
        self.required = tuple(str(s) for kind, s in self.sources if kind == "request")
        self._by_column = dict(zip(self.columns, self.sources, strict=True))
        # built once: pandas makes an Arrow-backed Index of a list of names, at about
        # ten times the cost of the rest of a one-row frame
        self._index = pd.Index(self.columns, dtype=object)

    def check_fields(self, fields: Mapping[str, Any]) -> None:
        """A request's fields: every ``request:`` input given, and every value the model
        reads a finite number, a boolean or null. Raises InputError naming the field."""
        for name in self.required:
            if name not in fields:
                raise InputError(f"fields.{name}", "the model reads this request-time "
                                 "field", got=sorted(fields) or "no fields",
                                 fix=f"send \"fields\": {{\"{name}\": <number>, ...}}")
        for name, value in fields.items():
            read = name in self.required or name in self._by_column
            if read and value is not None and not isinstance(value, Real):
                raise InputError(f"fields.{name}", "a value the model reads must be a "
                                 "number, a boolean or null", got=value,
                                 fix="send it as a JSON number")
            if read and isinstance(value, float) and not math.isfinite(value):
                raise InputError(f"fields.{name}", "a value the model reads must be a "
                                 "finite number (JSON has no NaN or Infinity; ingest "
                                 "refuses them too)", got=str(value),
                                 fix="send a finite number, or null for a missing value")

    def rows(self, fields: Sequence[Mapping[str, Any]], online: Sequence[Sequence[Any]],
             ) -> list[dict[str, Any]]:
        """Each row's inputs (column -> value, None if missing) for rows of (fields,
        online values in ``self.online`` order)."""
        rows: list[dict[str, Any]] = []
        for given, values in zip(fields, online, strict=True):
            row: dict[str, Any] = {}
            for column, (kind, source) in zip(self.columns, self.sources, strict=True):
                if column in given:
                    row[column] = given[column]
                elif kind == "request":
                    row[column] = given.get(str(source))
                else:
                    row[column] = values[int(source)]
            rows.append(row)
        return rows

    def frame(self, fields: Sequence[Mapping[str, Any]], online: Sequence[Sequence[Any]],
              ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        """The model's input frame for rows of (fields, online values in ``self.online``
        order), and each row's inputs as a dict (column -> value, None if missing)."""
        rows = self.rows(fields, online)
        return self.frame_of(rows), rows

    def frame_of(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        """``rows`` (from ``rows``) as the model's input frame."""
        matrix = self.matrix(rows)
        if matrix is None:  # text (a categorical feature): column by column
            return pd.DataFrame.from_records(rows, columns=self._index)
        return pd.DataFrame(matrix, columns=self._index, copy=False)

    def matrix(self, rows: list[dict[str, Any]]) -> np.ndarray | None:
        """``rows`` as one float64 matrix, columns in order and NaN for None (fast to
        build, what gradient boosting takes); None if a value is not a number."""
        columns = self.columns
        try:
            matrix = np.array([[math.nan if r[c] is None else r[c] for c in columns]
                               for r in rows], dtype=np.float64)
        except (TypeError, ValueError):
            return None
        return matrix.reshape(len(rows), len(columns))

    def overridden(self, fields: Mapping[str, Any]) -> set[str]:
        """The online columns a request's fields give instead."""
        return {c for c in fields if self._by_column.get(c, ("request", ""))[0] == "online"}

