"""What the scorer needs from the online store, as a protocol.

The project layer implements it (project/serving.py) over the project's definitions
and online store; serving itself never imports the project. A reader is made once per
model, for its online feature references, and then answers a batch of rows in one
store round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

__all__ = ["FeatureReader", "ReaderFactory"]


class FeatureReader(Protocol):
    """Reads the online values of fixed feature references for many rows at once.

    ``keys`` maps each request key column the references need to its type name
    (``"int64"`` or ``"string"``). ``key_values`` checks one request's keys and
    converts them, in the order of ``keys`` (raising ``InputError`` naming the key,
    for a missing one, one of the wrong type, or one the references do not use).
    ``read`` takes rows of converted keys and gives, per row, one value per reference
    (in the order the reader was made with) and whether the reference's entity had
    online state (when it had none, the value is the empty window's: 0 for counts and
    sums, else None).
    """

    @property
    def keys(self) -> Mapping[str, str]:
        ...

    def key_values(self, keys: Mapping[str, Any]) -> tuple[Any, ...]:
        ...

    def read(self, rows: Sequence[tuple[Any, ...]], at: datetime,
             ) -> list[tuple[list[Any], list[bool]]]:
        ...


ReaderFactory = Callable[[Sequence[str]], FeatureReader]
"""Makes the reader of some feature references (``"view:feature"``, in order)."""
