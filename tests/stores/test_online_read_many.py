"""Online stores read several views' keys at once, in request order."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def check_read_many(store: Any) -> None:
    assert store.read_many([]) == []
    assert store.read_many([("v", [])]) == [[]]
    store.write("v", {"a": b"1", "b": b"\x00\xff"})
    store.write("w", {"a": b"w1"})
    assert store.read_many([("v", ["a"]), ("w", ["a"])]) == [[b"1"], [b"w1"]]
    assert store.read_many([("w", ["zz"]), ("v", ["b", "zz", "a"]), ("v", [])]) == [
        [None], [b"\x00\xff", None, b"1"], []]
    assert store.read_many([("v", ["a"]), ("v", ["a"])]) == [[b"1"], [b"1"]]
    many = {f"k{i}": str(i).encode() for i in range(150)}
    store.write("w", many)
    keys = list(many)
    assert store.read_many([("w", keys), ("v", ["a"])]) == [list(many.values()), [b"1"]]
    assert store.read_many([("w", [k]) for k in keys[:70]]) == [
        [many[k]] for k in keys[:70]], "more lookups than one statement holds"
    store.write("v", {"short": b"x"}, ttl_seconds=0.2)
    assert store.read_many([("v", ["short"])]) == [[b"x"]]
    time.sleep(0.4)
    assert store.read_many([("v", ["short", "a"])]) == [[None, b"1"]], "expired"


def test_embedded_read_many(tmp_path: Path) -> None:
    from confluens.stores.online import EmbeddedOnlineStore

    store = EmbeddedOnlineStore(tmp_path / "online.db")
    try:
        check_read_many(store)
    finally:
        store.close()


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[Any]:
    from confluens.stores.online.redis_store import RedisOnlineStore

    store = RedisOnlineStore(redis_url, namespace=f"test-{uuid.uuid4().hex[:8]}")
    try:
        yield store
    finally:
        store.clear("v")
        store.clear("w")
        store.close()


@pytest.mark.service("redis")
def test_redis_read_many(redis_store: Any) -> None:
    check_read_many(redis_store)
