"""Row-as-of features: the latest row of a table at or before t, within a TTL.

A :class:`Snapshot` is a feature view whose features are columns of one row: the
latest event of the entity at or before t (in the event order: time, version, id)
whose event time is within the TTL. Every feature of a row comes from the same row,
unlike independent ``Last`` features, which each skip nulls on their own.

>>> from confluens.core.entity import Entity
>>> from confluens.core.source import Source
>>> profiles = Source("profiles", {"id": "int64", "ts": "timestamp", "customer": "string",
...                                "tier": "string", "limit": "float64"}, "ts", id="id")
>>> view = Snapshot("customer_profile", Entity("customer", ["customer"]), profiles,
...                 ["tier", "limit"], ttl="30d")
>>> view.feature_names, str(view.ttl), view.ttl_inclusive, view.nulls
(['tier', 'limit'], '30d', True, 'value')
>>> Snapshot("p", Entity("customer", ["customer"]), profiles, ["tier"], ttl="30d",
...          nulls="drop")
Traceback (most recent call last):
...
confluens.errors.DefinitionError: Snapshot 'p': nulls must be 'value' or 'skip'; got 'drop'...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from confluens.core.aggregations import Aggregation
from confluens.core.entity import Entity
from confluens.core.expressions import quote_column
from confluens.core.feature_view import FeatureView
from confluens.core.source import Source
from confluens.core.windows import FOREVER, Duration, TimeWindow, Window
from confluens.errors import DefinitionError

__all__ = ["FOREVER", "Latest", "Snapshot"]

_NULLS = ("value", "skip")


@dataclass(frozen=True, slots=True)
class Latest(Aggregation):
    """The value of the latest event in the window, null or not (``Last`` skips nulls).

    ``lower_inclusive``: the time window is ``[t - delay - length, t - delay]``, its
    lower edge included (a TTL as Feast reads it), rather than ``(..., t - delay]``.
    """

    lower_inclusive: bool = False
    kind: ClassVar[str] = "latest"

    if TYPE_CHECKING:  # what users write; Aggregation.__post_init__ parses it
        def __init__(self, column: str | None, *, window: Window | str,
                     delay: Duration | str = ..., where: str | None = None,
                     name: str | None = None, lower_inclusive: bool = False) -> None: ...

    def spec(self) -> dict[str, Any]:
        return {**Aggregation.spec(self), "lower_inclusive": self.lower_inclusive}


def _not_null(columns: Sequence[str]) -> str:
    """SQL text: every column is non-null (columns quoted, whatever their names)."""
    return " AND ".join(f"NOT {quote_column(c)} IS NULL" for c in columns)


@dataclass(frozen=True, slots=True, init=False)
class Snapshot(FeatureView):
    """The columns of the latest row of ``entity`` at or before t, within ``ttl``.

    - ``columns``: the source (or derived) columns to read, as a list, or a mapping
      ``{feature_name: column}``.
    - ``ttl``: how old the row may be (``"30d"``), or None for no limit. The row's event
      time must lie in ``[t - ttl, t]`` (``ttl_inclusive=True``, the default, as
      Feast) or ``(t - ttl, t]``.
    - ``nulls``: ``"value"`` (default): the latest row counts even where some of its
      columns are null, and those features are null. ``"skip"``: only rows with every
      one of ``columns`` non-null count, so the latest complete row is read.
    """

    columns: tuple[tuple[str, str], ...] = ()
    ttl: Duration | None = None
    ttl_inclusive: bool = True
    nulls: str = "value"

    kind: ClassVar[str] = "snapshot"

    def __init__(self, name: str, entity: Entity | None, source: Source,
                 columns: Sequence[str] | Mapping[str, str], *, ttl: str | Duration | None,
                 ttl_inclusive: bool = True, nulls: str = "value",
                 derive: Mapping[str, str] | None = None, description: str = "") -> None:
        where = f"Snapshot '{name}'"
        pairs = (tuple(columns.items()) if isinstance(columns, Mapping)
                 else tuple((c, c) for c in columns) if not isinstance(columns, str) else ())
        if not pairs or not all(isinstance(c, str) for pair in pairs for c in pair):
            raise DefinitionError(where, "columns must be a non-empty list of column names "
                                  "(or a mapping {feature: column})", got=columns,
                                  fix="pass e.g. columns=['tier', 'credit_limit']")
        if nulls not in _NULLS:
            raise DefinitionError(where, "nulls must be 'value' or 'skip'", got=nulls,
                                  fix="'value': the latest row, nulls included; 'skip': "
                                  "the latest row with every column non-null")
        if not isinstance(ttl_inclusive, bool):
            raise DefinitionError(where, "ttl_inclusive must be True or False",
                                  got=ttl_inclusive, fix="pass ttl_inclusive=True (Feast's "
                                  "rule) or False")
        length = FOREVER if ttl is None else Duration.parse(ttl, where=f"{where} ttl")
        if length.microseconds == 0:
            raise DefinitionError(where, "ttl must be longer than zero", got=ttl,
                                  fix="write e.g. ttl='30d', or ttl=None for no limit")
        filter_ = None if nulls == "value" else _not_null([c for _, c in pairs])
        features = [Latest(column, window=TimeWindow(length), where=filter_, name=feature,
                           lower_inclusive=ttl_inclusive and ttl is not None)
                    for feature, column in pairs]
        set_ = object.__setattr__
        set_(self, "columns", pairs)
        set_(self, "ttl", None if ttl is None else length)
        set_(self, "ttl_inclusive", ttl_inclusive)
        set_(self, "nulls", nulls)
        FeatureView.__init__(self, name, entity, source, features, derive=derive,
                             description=description)

    @property
    def _where(self) -> str:
        return f"Snapshot '{self.name}'"

    def spec(self) -> dict[str, Any]:
        return {**FeatureView.spec(self), "snapshot": {
            "columns": [list(pair) for pair in self.columns],
            "ttl": None if self.ttl is None else str(self.ttl),
            "ttl_inclusive": self.ttl_inclusive, "nulls": self.nulls}}
