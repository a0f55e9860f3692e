"""The Redis online store (``pip install 'confluens[redis]'``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from confluens.errors import MissingExtraError, StorageError
from confluens.stores.capabilities import StoreCapability

__all__ = ["RedisOnlineStore"]


class RedisOnlineStore:
    """One Redis string per (view, key), under a namespace; TTL by Redis expiry, at the
    instant ``clock() + ttl_seconds`` (``clock``: seconds since the epoch; Redis >= 6.2)."""

    capabilities = frozenset(StoreCapability) - {StoreCapability.REPLACE,
                                                 StoreCapability.CHECKPOINT}

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", namespace: str = "confluens",
                 *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        try:
            import redis
        except ModuleNotFoundError:
            raise MissingExtraError("the Redis online store", "redis", "redis") from None
        self.namespace = namespace
        self._redis: Any = redis.Redis.from_url(url)
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            raise StorageError("Redis online store", "cannot connect", got=url,
                               fix=f"start Redis or correct the URL ({exc})") from None

    @property
    def location(self) -> str:
        """Which store this is (server, database and namespace; never a password)."""
        args = self._redis.connection_pool.connection_kwargs
        where = args.get("path") or f"{args.get('host')}:{args.get('port')}"
        return f"redis:{where}/{args.get('db', 0)}#{self.namespace}"

    def _key(self, view: str, key: str) -> str:
        return f"{self.namespace}:{view}:{key}"

    def write(self, view: str, items: Mapping[str, bytes], *,
              ttl_seconds: float | None = None) -> int:
        pipe = self._redis.pipeline(transaction=False)
        expires_ms = None if ttl_seconds is None else int((self.clock() + ttl_seconds) * 1000)
        for key, value in items.items():
            if expires_ms is None:
                pipe.set(self._key(view, key), value)
            else:
                pipe.set(self._key(view, key), value, pxat=expires_ms)
        pipe.execute()
        return len(items)

    def read(self, view: str, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        return list(self._redis.mget([self._key(view, k) for k in keys]))

    def read_many(self, requests: Sequence[tuple[str, Sequence[str]]],
                  ) -> list[list[bytes | None]]:
        """Every key of every view in one MGET: one round trip."""
        keys = [self._key(view, k) for view, ks in requests for k in ks]
        if not keys:
            return [[] for _ in requests]
        found = self._redis.execute_command("MGET", *keys)
        out: list[list[bytes | None]] = []
        start = 0
        for _, ks in requests:
            out.append(list(found[start:start + len(ks)]))
            start += len(ks)
        return out

    def replace(self, view: str, items: Mapping[str, bytes], *,
                ttl_seconds: float | None = None) -> int:
        """Write every new value first, then remove the keys the new state lacks: each
        key reads its old or its new value, never missing if it is in both."""
        self.write(view, items, ttl_seconds=ttl_seconds)
        keep = {self._key(view, k).encode() for k in items}
        self._delete(view, lambda key: key not in keep)
        return len(items)

    def clear(self, view: str) -> None:
        self._delete(view, lambda key: True)

    def _delete(self, view: str, chosen: Callable[[bytes], bool]) -> None:
        batch = []
        for key in self._redis.scan_iter(match=f"{self.namespace}:{view}:*", count=1000):
            if chosen(key):
                batch.append(key)
            if len(batch) >= 1000:
                self._redis.delete(*batch)
                batch = []
        if batch:
            self._redis.delete(*batch)

    def close(self) -> None:
        self._redis.close()
