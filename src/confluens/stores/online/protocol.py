"""The online store protocol: the latest window state of each entity, by key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from confluens.stores.capabilities import StoreCapability

__all__ = ["OnlineStore"]


class OnlineStore(Protocol):
    """Bytes by (view, entity key). Writes replace; reads are batched; both are fast.

    ``ttl_seconds`` makes an entity's state expire that long after it was written.
    ``read_many`` reads several views' keys at once (one round trip where the store
    has round trips): for each (view, keys) request, the values in key order.
    ``replace`` makes ``items`` a view's whole state without a moment where a key in
    both the old and the new state reads as missing (a full rebuild).
    ``location`` names the store's kind and place (never a secret): a materialize
    records it, and rebuilds in full when the project's store is another one.
    ``capabilities`` says what else it supports: ``EXPIRY`` (``ttl_seconds`` honoured,
    the time read from a settable ``clock`` attribute) and ``THREADS``.
    """

    capabilities: frozenset[StoreCapability]

    @property
    def location(self) -> str:
        ...

    def write(self, view: str, items: Mapping[str, bytes], *,
              ttl_seconds: float | None = None) -> int:
        ...

    def read(self, view: str, keys: Sequence[str]) -> list[bytes | None]:
        ...

    def read_many(self, requests: Sequence[tuple[str, Sequence[str]]],
                  ) -> list[list[bytes | None]]:
        ...

    def replace(self, view: str, items: Mapping[str, bytes], *,
                ttl_seconds: float | None = None) -> int:
        ...

    def clear(self, view: str) -> None:
        ...

    def close(self) -> None:
        ...
