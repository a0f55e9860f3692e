"""A source's schema: typed fields, each optionally read from a differently named raw column.

>>> s = Schema.of({"id": "int64", "amount": "float"})
>>> [(f.name, f.dtype.value) for f in s.fields]
[('id', 'int64'), ('amount', 'float64')]
>>> s["amount"].dtype
<DType.FLOAT64: 'float64'>
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from confluens.core.dtypes import DType
from confluens.core.names import check_column
from confluens.errors import DefinitionError

__all__ = ["Field", "Schema"]


@dataclass(frozen=True, slots=True)
class Field:
    """One typed column.

    ``raw`` names the column in the input when it differs (e.g. ``"Customer ID"``).
    ``format`` is a strptime format for parsing timestamp or date strings.
    ``allow_nonfinite`` lets a float64 field hold NaN and infinities; by default such a
    value sends its record to quarantine (rule ``finite:<name>``).
    """

    name: str
    dtype: DType
    raw: str | None = None
    format: str | None = None
    allow_nonfinite: bool = False

    def __post_init__(self) -> None:
        check_column("Field", self.name)
        object.__setattr__(self, "dtype", DType.parse(self.dtype, where=f"Field '{self.name}'"))
        if self.raw is not None and (not isinstance(self.raw, str) or not self.raw):
            raise DefinitionError(f"Field '{self.name}'", "raw= must name the input column",
                                  got=self.raw, fix="pass raw='Column Name In The Input'")
        if self.format is not None and not self.dtype.is_temporal:
            raise DefinitionError(
                f"Field '{self.name}'", "format= applies only to timestamp and date fields",
                got=self.dtype.value, fix="drop format= or declare the field as a timestamp",
            )
        if not isinstance(self.allow_nonfinite, bool):
            raise DefinitionError(f"Field '{self.name}'", "allow_nonfinite must be True or False",
                                  got=self.allow_nonfinite, fix="pass allow_nonfinite=True")
        if self.allow_nonfinite and self.dtype is not DType.FLOAT64:
            raise DefinitionError(
                f"Field '{self.name}'", "allow_nonfinite applies only to float64 fields",
                got=self.dtype.value, fix="drop allow_nonfinite= or declare the field float64")

    @property
    def input_name(self) -> str:
        """The column to read from the input."""
        return self.raw or self.name

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": self.name, "dtype": self.dtype.value, "raw": self.raw,
                "format": self.format}
        if self.allow_nonfinite:  # only when set, so specs written before it stay equal
            spec["allow_nonfinite"] = True
        return spec


@dataclass(frozen=True, slots=True)
class Schema:
    """An ordered tuple of fields with unique names."""

    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        fields = tuple(self.fields)
        if not fields:
            raise DefinitionError("Schema", "must have at least one field", got=(),
                                  fix="declare the columns, e.g. {'id': 'int64'}")
        for f in fields:
            if not isinstance(f, Field):
                raise DefinitionError("Schema", "fields must be Field values", got=f,
                                      fix="use Field(name, dtype) or a {name: dtype} mapping")
        seen: set[str] = set()
        for f in fields:
            if f.name in seen:
                raise DefinitionError("Schema", "field names must be unique", got=f.name,
                                      fix=f"remove or rename the second '{f.name}'")
            seen.add(f.name)
        object.__setattr__(self, "fields", fields)

    @classmethod
    def of(cls, value: Schema | Mapping[str, DType | str] | Iterable[Field]) -> Schema:
        """Build a schema from a mapping of name to type, or from fields."""
        if isinstance(value, Schema):
            return value
        if isinstance(value, Mapping):
            return cls(tuple(Field(str(k), DType.parse(v, where=f"Field '{k}'"))
                             for k, v in value.items()))
        if isinstance(value, str | bytes):
            raise DefinitionError("Schema", "must be a mapping or a list of Field", got=value,
                                  fix="write schema={'id': 'int64', ...}")
        return cls(tuple(value))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def spec(self) -> list[dict[str, Any]]:
        return [f.spec() for f in self.fields]
