"""Definitions: frozen, typed values, validated when built. No I/O happens here."""

from confluens.core.checks import Check, Custom, NotNull, OneOf, OnFail, Range, Regex, Unique
from confluens.core.definitions import Definitions
from confluens.core.diff import Change, DefinitionsDiff, diff_specs
from confluens.core.dtypes import DType
from confluens.core.entity import Entity
from confluens.core.schema import Field, Schema
from confluens.core.source import Source, StreamBinding

__all__ = [
    "Change",
    "Check",
    "Custom",
    "DType",
    "Definitions",
    "DefinitionsDiff",
    "Entity",
    "Field",
    "NotNull",
    "OnFail",
    "OneOf",
    "Range",
    "Regex",
    "Schema",
    "Source",
    "StreamBinding",
    "Unique",
    "diff_specs",
]
