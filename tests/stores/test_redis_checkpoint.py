"""The Redis online store's commit: one script call, however large, all or nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from confluens.errors import CheckpointConflictError, StorageError
from confluens.stores.online.checkpoint import Checkpoint

pytestmark = pytest.mark.service("redis")


@pytest.fixture
def store(redis_url: str) -> Iterator[Any]:
    import redis

    from confluens.stores.online.redis_store import RedisOnlineStore

    namespace = f"test-{uuid.uuid4().hex[:8]}"
    store = RedisOnlineStore(redis_url, namespace=namespace)
    yield store
    store.close()
    client = redis.Redis.from_url(redis_url)
    for pattern in (f"{namespace}:*", f"{namespace}#*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
    client.close()


def test_a_large_commit_is_one_atomic_script_call(store: Any) -> None:
    state = {f"card-{i}": i.to_bytes(4, "big") * 8 for i in range(20_000)}
    first = Checkpoint("big", 1, {0: "1-0"}, {"watermark_us": 1})
    store.commit(first, [("v", state), ("w", {"card-1": b"w"})])
    assert store.read("v", list(state)) == list(state.values())
    assert store.checkpoint("big") == first
    stale = Checkpoint("big", 1, {0: "2-0"})
    with pytest.raises(CheckpointConflictError, match="stored checkpoint 1; got 1"):
        store.commit(stale, [("v", dict.fromkeys(state, b"lost"))])
    assert store.read("v", list(state)) == list(state.values()), "a refused commit writes nothing"
    assert store.checkpoint("big") == first


def test_committed_state_expires_like_written_state(store: Any) -> None:
    now = store.clock()
    store.clock = lambda: now - 3600
    store.commit(Checkpoint("ttl", 1), [("v", {"old": b"o", "kept": b"k"})], ttl_seconds=60)
    store.commit(Checkpoint("ttl", 2), [("v", {"kept": b"k"})], ttl_seconds=7200)
    store.clock = lambda: now
    store.commit(Checkpoint("ttl", 3), [("v", {"fresh": b"f"})], ttl_seconds=60)
    store.commit(Checkpoint("ttl", 4), [("v", {"forever": b"x"})])
    assert store.read("v", ["old", "kept", "fresh", "forever"]) == [None, b"k", b"f", b"x"]
    assert store.checkpoint("ttl") == Checkpoint("ttl", 4), "the checkpoint never expires"


def test_a_failed_commit_is_a_storage_error(store: Any, redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.set(f"{store.namespace}#checkpoint:typed", b"not a hash")
    client.close()
    with pytest.raises(StorageError, match="the commit of stream consumer 'typed' failed"):
        store.commit(Checkpoint("typed", 1), [("v", {"a": b"1"})])
