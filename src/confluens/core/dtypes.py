"""The column types a schema may declare.

>>> DType.parse("float")
<DType.FLOAT64: 'float64'>
>>> DType.parse("datetime").is_temporal
True
"""

from __future__ import annotations

from enum import Enum

from confluens.errors import DefinitionError

__all__ = ["DType"]


class DType(Enum):
    """A logical column type. Timestamps are stored in UTC (see docs/concepts.md)."""

    INT64 = "int64"
    FLOAT64 = "float64"
    STRING = "string"
    BOOL = "bool"
    TIMESTAMP = "timestamp"
    DATE = "date"

    @property
    def is_numeric(self) -> bool:
        return self in (DType.INT64, DType.FLOAT64)

    @property
    def is_temporal(self) -> bool:
        return self in (DType.TIMESTAMP, DType.DATE)

    @classmethod
    def parse(cls, value: DType | str, *, where: str = "type") -> DType:
        """Read a type from its name or one of the usual aliases."""
        if isinstance(value, DType):
            return value
        if isinstance(value, str):
            found = _ALIASES.get(value.strip().lower())
            if found is not None:
                return found
        raise DefinitionError(
            where,
            "must be one of " + ", ".join(repr(d.value) for d in cls),
            got=value,
            fix="use one of those type names",
        )


_ALIASES: dict[str, DType] = {d.value: d for d in DType} | {
    "int": DType.INT64,
    "integer": DType.INT64,
    "bigint": DType.INT64,
    "float": DType.FLOAT64,
    "double": DType.FLOAT64,
    "str": DType.STRING,
    "text": DType.STRING,
    "varchar": DType.STRING,
    "boolean": DType.BOOL,
    "datetime": DType.TIMESTAMP,
}
