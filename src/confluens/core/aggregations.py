"""Windowed aggregations: what one feature computes over its window.

Each aggregation names its column (``Count`` needs none), its window, an optional
delay and an optional filter. Its feature name is generated unless given:
``{column}_{kind}_{window}`` plus ``_delay{delay}`` when there is one.

>>> Mean("tx_amount", window="7d").feature_name
'tx_amount_mean_7d'
>>> Count(window="30d", delay="7d").feature_name
'count_30d_delay7d'
>>> from confluens.core.windows import Events
>>> Sum("amount", window=Events(5)).feature_name
'amount_sum_last5'
>>> Ratio(Sum("tx_fraud", window="7d"), Count(window="7d"), empty=0.0).feature_name
'tx_fraud_sum_7d_per_count_7d'

Values over an empty window: ``Count``, ``Sum`` and ``DistinctCount`` give 0; the
others give null. ``Std`` is the sample standard deviation (n - 1), null below two
values. Nulls in the column are skipped, as in SQL.

Each kind says which column types it takes (``accepts``; None: any type). The feature
view checks its columns against them when it is built:

>>> Sum.accepts, Min.accepts, Last.accepts
(('int64', 'float64'), ('int64', 'float64', 'string', 'bool', 'timestamp', 'date'), None)
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from confluens.core.names import check_column, check_name
from confluens.core.windows import Duration, TimeWindow, Window, window_of
from confluens.errors import DefinitionError

NUMERIC = ("int64", "float64")
ORDERED = (*NUMERIC, "string", "bool", "timestamp", "date")

__all__ = ["Aggregation", "Count", "DistinctCount", "Last", "Max", "Mean", "Min", "Ratio",
           "Std", "Sum"]


@dataclass(frozen=True, slots=True)
class Aggregation:
    """Base of the windowed aggregations."""

    column: str | None
    _: KW_ONLY
    window: Window = field(default=None)  # type: ignore[assignment]
    delay: Duration = field(default=Duration(0))
    where: str | None = None
    name: str | None = None

    kind: ClassVar[str] = "aggregation"
    empty: ClassVar[Any] = None  # the value over an empty window
    accepts: ClassVar[tuple[str, ...] | None] = None  # column types it takes; None: any

    if TYPE_CHECKING:  # what users write; __post_init__ parses it into the fields' types
        def __init__(self, column: str | None, *, window: Window | str,
                     delay: Duration | str = ..., where: str | None = None,
                     name: str | None = None) -> None: ...

    def __post_init__(self) -> None:
        column = "" if self.column is None else f"{self.column!r}, "
        where = (f"feature '{self.name}'" if isinstance(self.name, str) else
                 f"feature {type(self).__name__}({column}window={self.window!r})")
        if self.column is not None:
            check_column(where, self.column)
        elif type(self) is not Count:
            raise DefinitionError(where, f"{self.kind} needs a column", got=None,
                                  fix=f"write {type(self).__name__}('column', window=...)")
        if self.window is None:
            raise DefinitionError(where, "needs a window", got=None,
                                  fix="pass window='7d' or window=Events(5)")
        object.__setattr__(self, "window", window_of(self.window, where=f"{where} window"))
        object.__setattr__(self, "delay", Duration.parse(self.delay, where=f"{where} delay"))
        if self.name is not None:
            check_name("Feature", self.name)
        if self.where is not None and self.name is None:
            raise DefinitionError(where, "a filtered feature needs a name", got=self.where,
                                  fix="pass name='...' so it cannot be confused with the "
                                  "unfiltered one")

    @property
    def feature_name(self) -> str:
        if self.name:
            return self.name
        label = f"{self.column}_{self.kind}" if self.column else self.kind
        label += f"_{self.window.label}"
        if self.delay.microseconds:
            label += f"_delay{self.delay}"
        return label

    def spec(self) -> dict[str, Any]:
        window = self.window
        return {"kind": self.kind, "column": self.column, "name": self.feature_name,
                "window": {"time": str(window.length)} if isinstance(window, TimeWindow)
                else {"events": window.n},
                "delay": str(self.delay), "where": self.where}


@dataclass(frozen=True, slots=True)
class Count(Aggregation):
    """The number of events in the window (``Count("col")``: of non-null values)."""

    column: str | None = None
    kind: ClassVar[str] = "count"
    empty: ClassVar[Any] = 0

    if TYPE_CHECKING:
        def __init__(self, column: str | None = None, *, window: Window | str,
                     delay: Duration | str = ..., where: str | None = None,
                     name: str | None = None) -> None: ...


@dataclass(frozen=True, slots=True, init=False)  # Aggregation's __init__
class Sum(Aggregation):
    kind: ClassVar[str] = "sum"
    accepts: ClassVar[tuple[str, ...] | None] = NUMERIC
    empty: ClassVar[Any] = 0


@dataclass(frozen=True, slots=True, init=False)  # Aggregation's __init__
class Mean(Aggregation):
    kind: ClassVar[str] = "mean"
    accepts: ClassVar[tuple[str, ...] | None] = NUMERIC


@dataclass(frozen=True, slots=True, init=False)  # Aggregation's __init__
class Min(Aggregation):
    kind: ClassVar[str] = "min"
    accepts: ClassVar[tuple[str, ...] | None] = ORDERED


@dataclass(frozen=True, slots=True, init=False)  # Aggregation's __init__
class Max(Aggregation):
    kind: ClassVar[str] = "max"
    accepts: ClassVar[tuple[str, ...] | None] = ORDERED


@dataclass(frozen=True, slots=True, init=False)  # Aggregation's __init__
class Std(Aggregation):
    """Sample standard deviation (n - 1); null with fewer than two values."""

    kind: ClassVar[str] = "std"
    accepts: ClassVar[tuple[str, ...] | None] = NUMERIC


@dataclass(frozen=True, slots=True, init=False)  # Aggregation's __init__
class Last(Aggregation):
    """The value of the latest event in the window (ties: the larger id)."""

    kind: ClassVar[str] = "last"


@dataclass(frozen=True, slots=True, init=False)  # Aggregation's __init__
class DistinctCount(Aggregation):
    kind: ClassVar[str] = "distinct"
    empty: ClassVar[Any] = 0


@dataclass(frozen=True, slots=True)
class Ratio:
    """``numerator / denominator``; ``empty`` where the denominator is 0 or null."""

    numerator: Aggregation
    denominator: Aggregation
    _: KW_ONLY
    name: str | None = None
    empty: float | None = None

    kind: ClassVar[str] = "ratio"

    def __post_init__(self) -> None:
        for part in (self.numerator, self.denominator):
            if not isinstance(part, Aggregation):
                raise DefinitionError("Ratio", "numerator and denominator must be "
                                      "aggregations", got=part,
                                      fix="write Ratio(Sum('x', window='7d'), "
                                      "Count(window='7d'))")
        if self.name is not None:
            check_name("Feature", self.name)
        if self.empty is not None and not isinstance(self.empty, int | float):
            raise DefinitionError(f"feature {self.feature_name}", "empty must be a number or "
                                  "None", got=self.empty, fix="pass e.g. empty=0.0")

    @property
    def feature_name(self) -> str:
        return self.name or (f"{self.numerator.feature_name}_per_"
                             f"{self.denominator.feature_name}")

    @property
    def parts(self) -> tuple[Aggregation, Aggregation]:
        return self.numerator, self.denominator

    def spec(self) -> dict[str, Any]:
        return {"kind": "ratio", "name": self.feature_name, "empty": self.empty,
                "numerator": self.numerator.spec(), "denominator": self.denominator.spec()}
