"""Definitions: frozen, typed values, validated when built. No I/O happens here."""

from confluens.core.aggregations import (
    Aggregation,
    Count,
    DistinctCount,
    Last,
    Max,
    Mean,
    Min,
    Ratio,
    Std,
    Sum,
)
from confluens.core.checks import Check, Custom, NotNull, OneOf, OnFail, Range, Regex, Unique
from confluens.core.definitions import Definitions
from confluens.core.diff import Change, DefinitionsDiff, diff_specs
from confluens.core.dtypes import DType
from confluens.core.entity import Entity
from confluens.core.feature_view import Feature, FeatureView
from confluens.core.global_entity import GLOBAL
from confluens.core.metrics import (
    AUC,
    NDCG,
    PHM08,
    RMSE,
    AveragePrecision,
    CardPrecision,
    HitRate,
    Metric,
)
from confluens.core.model import Estimator, Model
from confluens.core.protocols import Prequential, Protocol, TimeSplit
from confluens.core.schema import Field, Schema
from confluens.core.snapshot import Latest, Snapshot
from confluens.core.source import Source, StreamBinding
from confluens.core.windows import Duration, Events, EventsWindow, TimeWindow, Window

__all__ = [
    "AUC",
    "GLOBAL",
    "NDCG",
    "PHM08",
    "RMSE",
    "Aggregation",
    "AveragePrecision",
    "CardPrecision",
    "Change",
    "Check",
    "Count",
    "Custom",
    "DType",
    "Definitions",
    "DefinitionsDiff",
    "DistinctCount",
    "Duration",
    "Entity",
    "Estimator",
    "Events",
    "EventsWindow",
    "Feature",
    "FeatureView",
    "Field",
    "HitRate",
    "Last",
    "Latest",
    "Max",
    "Mean",
    "Metric",
    "Min",
    "Model",
    "NotNull",
    "OnFail",
    "OneOf",
    "Prequential",
    "Protocol",
    "Range",
    "Ratio",
    "Regex",
    "Schema",
    "Snapshot",
    "Source",
    "Std",
    "StreamBinding",
    "Sum",
    "TimeSplit",
    "TimeWindow",
    "Unique",
    "Window",
    "diff_specs",
]
