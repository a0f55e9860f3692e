"""A feature view: windowed features of one entity, computed from one source.

>>> from confluens.core.entity import Entity
>>> from confluens.core.source import Source
>>> from confluens.core.aggregations import Count, Mean
>>> customer = Entity("customer", keys=["customer_id"])
>>> tx = Source("tx", {"id": "int64", "ts": "timestamp", "customer_id": "string",
...                    "amount": "float64"}, "ts", id="id")
>>> view = FeatureView("customer_spend", customer, tx,
...                    features=[Count(window="1d"), Mean("amount", window="7d")],
...                    derive={"is_night": "hour(ts) <= 6"})
>>> view.feature_names
['count_1d', 'amount_mean_7d']
>>> FeatureView("bad", customer, tx, features=[Mean("price", window="1d")])
Traceback (most recent call last):
...
confluens.errors.DefinitionError: FeatureView 'bad': feature 'price_mean_1d' reads a column the
source does not have; got 'price'...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from confluens.core.aggregations import NUMERIC, Aggregation, Ratio
from confluens.core.entity import Entity
from confluens.core.expressions import check_expression
from confluens.core.global_entity import GLOBAL
from confluens.core.names import check_column, check_name
from confluens.core.source import Source
from confluens.core.windows import (
    FOREVER,
    MAX_EVENTS,
    MAX_SPAN,
    Duration,
    EventsWindow,
    TimeWindow,
)
from confluens.errors import DefinitionError

__all__ = ["KEY_TYPES", "Feature", "FeatureView"]

KEY_TYPES = ("int64", "string", "date")  # entity key column types

Feature = Aggregation | Ratio


@dataclass(frozen=True, slots=True)
class FeatureView:
    """Features of ``entity`` from the events of ``source``.

    ``derive`` adds per-event columns (SQL expressions over the source's columns and
    earlier derived ones) that features may aggregate or filter on. ``freshness`` is
    the view's freshness SLA: how long after an event reaches its stream the view's
    online values may take to include it (``confluens status`` flags a breach).
    """

    name: str
    entity: Entity
    source: Source
    features: tuple[Feature, ...]
    derive: tuple[tuple[str, str], ...] = ()
    description: str = ""
    freshness: Duration | None = None

    def __init__(self, name: str, entity: Entity | None, source: Source,
                 features: Sequence[Feature], *, derive: Mapping[str, str] | None = None,
                 description: str = "", freshness: Duration | str | None = None) -> None:
        set_ = object.__setattr__
        set_(self, "name", check_name("FeatureView", name))
        set_(self, "entity", GLOBAL if entity is None else entity)  # None: no key columns
        set_(self, "source", source)
        set_(self, "features", tuple(features))
        set_(self, "derive", tuple((derive or {}).items()))
        set_(self, "description", description)
        set_(self, "freshness", None if freshness is None else Duration.parse(
            freshness, f"FeatureView '{name}' freshness"))
        self._validate()

    @property
    def _where(self) -> str:
        return f"FeatureView '{self.name}'"

    def _validate(self) -> None:
        if not isinstance(self.entity, Entity):
            raise DefinitionError(self._where, "entity must be an Entity", got=self.entity,
                                  fix="pass Entity('customer', keys=['customer_id'])")
        if not isinstance(self.source, Source):
            raise DefinitionError(self._where, "source must be a Source", got=self.source,
                                  fix="pass the Source the features are computed from")
        types: dict[str, str | None] = {f.name: f.dtype.value for f in self.source.schema}
        for key in self.entity.keys:
            if key not in types:
                raise DefinitionError(self._where, f"the source '{self.source.name}' lacks "
                                      f"entity '{self.entity.name}''s key column", got=key,
                                      fix="add the key to the source's schema, or pick the "
                                      "right entity")
            if types[key] not in KEY_TYPES:
                raise DefinitionError(self._where, f"entity key column '{key}' must be "
                                      "int64, string or date (keys are matched exactly, "
                                      "online too)", got=types[key],
                                      fix="key the entity by an int64 or string column, e.g. "
                                      "declare the key column as a string in the schema")
        for derived, expression in self.derive:
            check_column(f"{self._where} derive", derived)
            if derived in types:
                raise DefinitionError(self._where, "a derived column may not shadow a column",
                                      got=derived, fix="give it another name")
            check_expression(expression, where=f"{self._where} derive '{derived}'")
            types[derived] = None  # typed when definitions load (plan/expressions)
        if not self.features:
            raise DefinitionError(self._where, "needs at least one feature", got=[],
                                  fix="pass features=[Count(window='7d'), ...]")
        seen: set[str] = set()
        for feature in self.features:
            if not isinstance(feature, Aggregation | Ratio):
                raise DefinitionError(self._where, "features must be aggregations or ratios",
                                      got=feature, fix="use Count, Sum, Mean, Min, Max, Std, "
                                      "Last, DistinctCount or Ratio")
            parts = feature.parts if isinstance(feature, Ratio) else (feature,)
            for part in parts:
                self._check_part(feature.feature_name, part, types)
                self._check_type(feature, part, types)
            if feature.feature_name in seen:
                raise DefinitionError(self._where, "feature names must be unique",
                                      got=feature.feature_name, fix="give one of them name=")
            seen.add(feature.feature_name)

    def _check_part(self, name: str, part: Aggregation,
                    types: dict[str, str | None]) -> None:
        """One aggregation of feature ``name``: its column, type, filter and window."""
        thing = f"feature '{name}'"
        where = f"{self._where} {thing}"
        if part.column is not None:
            self._known([part.column], list(types), thing)
            if part.column in self.entity.keys:
                raise DefinitionError(where, "may not aggregate an entity key column (it has "
                                      "one value per entity)", got=part.column,
                                      fix="aggregate another column; Count() counts events")
        if part.where is not None:
            check_expression(part.where, where=f"{where} where")
        spans = [("delay", part.delay)]
        if isinstance(part.window, TimeWindow):
            spans.append(("window", part.window.length))
        for label, span in spans:
            if span > MAX_SPAN and span != FOREVER:  # FOREVER: a snapshot without a TTL
                raise DefinitionError(where, f"a {label} may be at most {MAX_SPAN.days:,} days "
                                      "(100 years)", got=str(span),
                                      fix=f"shorten the {label}, e.g. '{MAX_SPAN.days}d'")
        if isinstance(part.window, EventsWindow) and part.window.n > MAX_EVENTS:
            raise DefinitionError(where, f"an event-count window may hold at most "
                                  f"{MAX_EVENTS:,} events", got=part.window.n,
                                  fix=f"use Events({MAX_EVENTS}) or fewer")

    def _check_type(self, feature: Feature, part: Aggregation,
                    types: Mapping[str, str | None]) -> None:
        """The rules on the type of the column ``part`` reads; skipped while it is a
        derived column not yet typed (None)."""
        found = types.get(part.column or "") if part.column is not None else None
        if found is None:
            return
        where = f"{self._where} feature '{feature.feature_name}'"
        if part.accepts is not None and found not in part.accepts:
            raise DefinitionError(where, f"{part.kind} needs a column of type "
                                  f"{' or '.join(part.accepts)}",
                                  got=f"{part.column} ({found})",
                                  fix="aggregate another column, derive a numeric one "
                                  "(e.g. derive={'x': 'CAST(col AS DOUBLE)'}), or use "
                                  "Count, DistinctCount or Last")
        if isinstance(feature, Ratio) and part.kind not in ("count", "distinct") and (
                found not in NUMERIC):
            raise DefinitionError(where, "a ratio divides numbers: its parts must aggregate "
                                  "numeric columns", got=f"{part.kind} of {part.column} "
                                  f"({found})", fix="use Count, Sum or Mean of a numeric "
                                  "column as the part")

    def check_column_types(self, types: Mapping[str, str]) -> None:
        """Check every feature's column type against ``types``, which types the
        derived columns too (the plan layer types them when definitions load:
        ``plan/expressions/bind.py``); DefinitionError for the first that does not fit."""
        for feature in self.features:
            for part in feature.parts if isinstance(feature, Ratio) else (feature,):
                self._check_type(feature, part, types)

    def _known(self, used: list[str], columns: list[str], thing: str) -> None:
        for name in used:
            if name not in columns:
                raise DefinitionError(self._where, f"{thing} reads a column the source does "
                                      "not have", got=name, fix=f"use one of {columns}")

    @property
    def feature_names(self) -> list[str]:
        return [f.feature_name for f in self.features]

    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.feature_name == name:
                return f
        raise KeyError(name)

    def spec(self) -> dict[str, Any]:
        """The definition; ``freshness`` only when set (a view without one keeps the
        hash it had before the setting existed)."""
        out = {"kind": "feature_view", "name": self.name, "entity": self.entity.name,
               "source": self.source.name, "derive": dict(self.derive),
               "features": [f.spec() for f in self.features],
               "description": self.description}
        if self.freshness is not None:
            out["freshness"] = str(self.freshness)
        return out
