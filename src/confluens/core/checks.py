"""Data checks attached to a source.

Each check tests one record at a time and either sends a failing record to
quarantine (``on_fail="quarantine"``, the default) or only counts a warning
(``on_fail="warn"``). Checks other than :class:`NotNull` pass on null values:
a null amount is not "out of range", it is missing, and only ``NotNull`` says
whether missing is allowed.

>>> Range("amount", min=0).rule
'range:amount'
>>> OneOf("country", ["FR", "DE"], on_fail="warn").on_fail
<OnFail.WARN: 'warn'>
>>> Range("amount", min=5, max=1)
Traceback (most recent call last):
...
confluens.errors.DefinitionError: Check 'range:amount': min must not exceed max; got (5, 1)....
"""

from __future__ import annotations

import hashlib
import re
import types
from collections.abc import Callable, Iterable
from dataclasses import KW_ONLY, dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from confluens.core.names import check_column, check_name
from confluens.errors import DefinitionError

__all__ = ["Check", "Custom", "NotNull", "OnFail", "OneOf", "Range", "Regex", "Unique"]


_RE2_UNSUPPORTED = re.compile(r"\(\?<?[=!]|\\[1-9]")


class OnFail(Enum):
    QUARANTINE = "quarantine"
    WARN = "warn"

    @classmethod
    def parse(cls, value: OnFail | str, where: str) -> OnFail:
        if isinstance(value, OnFail):
            return value
        for member in cls:
            if member.value == value:
                return member
        raise DefinitionError(where, "on_fail must be 'quarantine' or 'warn'", got=value,
                              fix="pass on_fail='quarantine' or on_fail='warn'")


@dataclass(frozen=True, slots=True)
class Check:
    """Base of all checks. ``rule`` names the check in quarantine and counts."""

    column: str
    _: KW_ONLY
    on_fail: OnFail = OnFail.QUARANTINE
    name: str | None = None

    kind = "check"

    if TYPE_CHECKING:  # what users write; __post_init__ parses it into the fields' types
        def __init__(self, column: str, *, on_fail: OnFail | str = ...,
                     name: str | None = None) -> None: ...

    def __post_init__(self) -> None:
        check_column(f"Check '{self.kind}'", self.column)
        object.__setattr__(self, "on_fail", OnFail.parse(self.on_fail, self._where))
        if self.name is not None:
            check_name("Check", self.name)

    @property
    def rule(self) -> str:
        return self.name or f"{self.kind}:{self.column}"

    @property
    def _where(self) -> str:
        return f"Check '{self.name or f'{self.kind}:{self.column}'}'"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def describe(self) -> str:
        """What a passing record satisfies, in words."""
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {}

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "on_fail": self.on_fail.value,
                "rule": self.rule, **self.params()}


@dataclass(frozen=True, slots=True, init=False)  # Check's __init__
class NotNull(Check):
    kind = "not_null"

    def describe(self) -> str:
        return f"{self.column} is not null"


@dataclass(frozen=True, slots=True)
class Range(Check):
    """``min <= value <= max``; either bound may be omitted, and either may be exclusive."""

    min: float | int | None = None
    max: float | int | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    kind = "range"

    if TYPE_CHECKING:
        def __init__(self, column: str, min: float | None = None, max: float | None = None,
                     min_inclusive: bool = True, max_inclusive: bool = True, *,
                     on_fail: OnFail | str = ..., name: str | None = None) -> None: ...

    def __post_init__(self) -> None:
        Check.__post_init__(self)
        if self.min is None and self.max is None:
            raise DefinitionError(self._where, "needs min, max or both", got=None,
                                  fix="pass min= and/or max=")
        for bound in (self.min, self.max):
            if bound is not None and (isinstance(bound, bool)
                                      or not isinstance(bound, int | float)):
                raise DefinitionError(self._where, "bounds must be numbers", got=bound,
                                      fix="pass numbers for min= and max=")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise DefinitionError(self._where, "min must not exceed max",
                                  got=(self.min, self.max), fix="swap the bounds")

    def describe(self) -> str:
        lo = "" if self.min is None else f"{self.min} {'<=' if self.min_inclusive else '<'} "
        hi = "" if self.max is None else f" {'<=' if self.max_inclusive else '<'} {self.max}"
        return f"{lo}{self.column}{hi}"

    def params(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max, "min_inclusive": self.min_inclusive,
                "max_inclusive": self.max_inclusive}


@dataclass(frozen=True, slots=True)
class OneOf(Check):
    values: tuple[Any, ...] = field(default=())

    kind = "one_of"

    if TYPE_CHECKING:
        def __init__(self, column: str, values: Iterable[Any] = (), *,
                     on_fail: OnFail | str = ..., name: str | None = None) -> None: ...

    def __post_init__(self) -> None:
        Check.__post_init__(self)
        if isinstance(self.values, str) or not isinstance(self.values, Iterable):
            raise DefinitionError(self._where, "values must be a list", got=self.values,
                                  fix="pass values=['a', 'b']")
        values = tuple(self.values)
        if not values:
            raise DefinitionError(self._where, "needs at least one allowed value", got=[],
                                  fix="list the allowed values")
        object.__setattr__(self, "values", values)

    def describe(self) -> str:
        return f"{self.column} is one of {list(self.values)!r}"

    def params(self) -> dict[str, Any]:
        return {"values": list(self.values)}


@dataclass(frozen=True, slots=True)
class Regex(Check):
    """The whole string value matches ``pattern`` (an RE2-compatible regular expression)."""

    pattern: str = ""

    kind = "regex"

    if TYPE_CHECKING:
        def __init__(self, column: str, pattern: str = "", *,
                     on_fail: OnFail | str = ..., name: str | None = None) -> None: ...

    def __post_init__(self) -> None:
        Check.__post_init__(self)
        if not isinstance(self.pattern, str) or not self.pattern:
            raise DefinitionError(self._where, "pattern must be a non-empty string",
                                  got=self.pattern, fix="pass pattern=r'^[0-9]{6}$'")
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise DefinitionError(self._where, f"pattern does not compile ({exc})",
                                  got=self.pattern, fix="correct the regular expression") from None
        if _RE2_UNSUPPORTED.search(self.pattern):
            raise DefinitionError(self._where, "pattern uses lookaround or a backreference, "
                                  "which RE2 (the engine that runs checks) does not support",
                                  got=self.pattern, fix="rewrite it without (?=, (?!, (?<=, "
                                  "(?<! or \\1, or use a Custom check")

    def describe(self) -> str:
        return f"{self.column} fully matches /{self.pattern}/"

    def params(self) -> dict[str, Any]:
        return {"pattern": self.pattern}


@dataclass(frozen=True, slots=True, init=False)  # Check's __init__
class Unique(Check):
    """No two records of the source share a value: the second and later ones fail.

    "Earlier" means already stored, or before in the same input (file order).
    """

    kind = "unique"

    def describe(self) -> str:
        return f"{self.column} has not been seen before"


@dataclass(frozen=True, slots=True)
class Custom(Check):
    """A user function ``fn(frame) -> booleans``: True where the record passes.

    ``frame`` is a pandas DataFrame of the coerced records. ``column`` names the
    column the rule is about (for reports); the function may read any column.
    """

    fn: Callable[..., Any] | None = None

    kind = "custom"

    if TYPE_CHECKING:
        def __init__(self, column: str, fn: Callable[..., Any] | None = None, *,
                     on_fail: OnFail | str = ..., name: str | None = None) -> None: ...

    def __post_init__(self) -> None:
        Check.__post_init__(self)
        if not callable(self.fn):
            raise DefinitionError(self._where, "fn must be a callable frame -> booleans",
                                  got=self.fn, fix="pass fn=lambda df: df['amount'] < 1e6")
        if self.name is None:
            raise DefinitionError(self._where, "a custom check needs a name", got=None,
                                  fix="pass name='amount_plausible'")

    def describe(self) -> str:
        doc = (self.fn.__doc__ or "").strip().splitlines() if self.fn else []
        return doc[0] if doc else f"{getattr(self.fn, '__qualname__', 'function')} holds"

    def params(self) -> dict[str, Any]:
        fn = self.fn
        code = getattr(fn, "__code__", None)
        # the module name is left out: it depends on where the project folder lives
        return {"function": getattr(fn, "__qualname__", "?"),
                "code_hash": _code_hash(code) if isinstance(code, types.CodeType) else None}


def _code_hash(code: types.CodeType) -> str:
    """A hash of a function's bytecode and constants, so `apply` sees when its body changes."""
    digest = hashlib.sha256(code.co_code)
    digest.update(repr(code.co_names).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            digest.update(_code_hash(const).encode())
        else:
            digest.update(repr(const).encode())
    return digest.hexdigest()[:16]
