"""Every error confluens raises on purpose.

The tree::

    ConfluensError                  base; never raised itself
    ├── DefinitionError             a definition breaks a rule when it is built (core/)
    │   └── DefinitionsError        the set of definitions does not fit together
    ├── ConfigError                 confluens.toml is malformed or names something unknown
    ├── ProjectError                the project folder or its state is not usable as asked
    │   └── NotAppliedError         definitions changed since the last `confluens apply`
    ├── InputError                  data or arguments given at run time are wrong
    │   ├── UnknownNameError        a source, column or template name that does not exist
    │   ├── SchemaMismatchError     input data lacks columns the schema requires
    │   ├── SourceReadError         a path, glob or URI cannot be read
    │   ├── ExpressionError         a user filter expression does not parse or is not allowed
    │   └── FeatureExpressionError  a view's derive/where expression failed on stored data
    ├── NotSupportedError           valid, but this engine or release cannot do it yet
    ├── MissingExtraError           an optional dependency is not installed
    ├── UserCodeError               user code (a check function, a UDF) raised
    └── StorageError                the offline store or metadata store failed
        ├── ConcurrentWriteError    another writer holds the table's lock
        └── CheckpointConflictError another stream processor committed this checkpoint
            └── LeaseLostError      a group worker's lease on a partition is gone

Every message names the thing, the rule, the value received and the fix, in that
order, so a user can act on it without reading a traceback:

>>> err = DefinitionError("Source 'tx'", "event_time must be a column of the schema",
...                       got="ts", fix="add 'ts' to the schema or name another column")
>>> print(err)
Source 'tx': event_time must be a column of the schema; got 'ts'. Fix: add 'ts' to the
schema or name another column.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CheckpointConflictError",
    "ConcurrentWriteError",
    "ConfigError",
    "ConfluensError",
    "DefinitionError",
    "DefinitionsError",
    "ExpressionError",
    "FeatureExpressionError",
    "InputError",
    "LeaseLostError",
    "MissingExtraError",
    "NotAppliedError",
    "NotSupportedError",
    "ProjectError",
    "SchemaMismatchError",
    "SourceReadError",
    "StorageError",
    "UnknownNameError",
    "UserCodeError",
]

_MISSING: Any = object()


class ConfluensError(Exception):
    """Base class: ``thing``, ``rule``, ``got`` and ``fix`` make the message."""

    def __init__(self, thing: str, rule: str, *, got: Any = _MISSING, fix: str = "") -> None:
        self.thing = thing
        self.rule = rule
        self.got = None if got is _MISSING else got
        self.fix = fix
        message = f"{thing}: {rule}"
        if got is not _MISSING:
            message += f"; got {got!r}"
        message += "."
        if fix:
            message += f" Fix: {fix.rstrip('.')}."
        super().__init__(message)


class DefinitionError(ConfluensError):
    """A definition object breaks a rule when it is built."""


class DefinitionsError(DefinitionError):
    """Definitions that are each valid do not fit together (duplicate names, dangling refs)."""


class ConfigError(ConfluensError):
    """confluens.toml is malformed or holds an unknown or invalid setting."""


class ProjectError(ConfluensError):
    """The project folder or its stored state cannot serve the request."""


class NotAppliedError(ProjectError):
    """A definition differs from the version last registered with `confluens apply`."""


class InputError(ConfluensError):
    """Data or arguments given at run time are wrong."""


class UnknownNameError(InputError):
    """A name (source, column, template) that does not exist."""


class SchemaMismatchError(InputError):
    """Input data does not carry the columns a source's schema requires."""


class SourceReadError(InputError):
    """A path, glob or URI cannot be read."""


class ExpressionError(InputError):
    """A user filter expression does not parse or uses something it may not."""


class FeatureExpressionError(InputError):
    """A feature view's derive or where expression failed on the stored events at run
    time (e.g. a CAST of a value that does not convert); names view, features and text."""


class NotSupportedError(ConfluensError):
    """A valid request that this engine or release cannot carry out yet."""


class MissingExtraError(ConfluensError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            feature,
            f"needs the optional module '{module}', which is not installed",
            fix=f"pip install 'confluens[{extra}]'",
        )
        self.extra = extra
        self.module = module


class UserCodeError(ConfluensError):
    """User code raised. ``original`` is the exception; its traceback is kept as __cause__."""

    def __init__(self, thing: str, original: BaseException) -> None:
        super().__init__(
            thing,
            f"user code raised {type(original).__name__}: {original}",
            fix="see the original traceback above this error; the bug is in that function",
        )
        self.original = original


class StorageError(ConfluensError):
    """The offline store or the metadata store failed."""


class ConcurrentWriteError(StorageError):
    """Another process is writing the same table."""


class CheckpointConflictError(StorageError):
    """A stream processor's commit found another commit in its place: a second
    processor (or a stale one) consumes the same partitions. Nothing was written."""


class LeaseLostError(CheckpointConflictError):
    """A consumer-group worker was about to write a partition's batch, but its lease on
    the partition had expired or passed to another worker. Nothing was written."""
