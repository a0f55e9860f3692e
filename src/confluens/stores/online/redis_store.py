"""The Redis online store (``pip install 'confluens[redis]'``).

State is one Redis string per (view, key), ``<namespace>:<view>:<key>``. A stream
processor's checkpoint is the hash ``<namespace>#checkpoint:<consumer>`` (fields
``seq`` and ``checkpoint``, the JSON of :class:`Checkpoint`), and ``commit`` is one Lua
script (``_COMMIT``, loaded once and called by its SHA): Redis runs it with no other
command in between, so it checks the stored ``seq`` and writes every state value and
the checkpoint, or, on a mismatch, writes nothing. Its keys and values travel as one
call however many there are (20,000 values are one script call of 40,000 arguments).

Leases (``lease.py``) are the fields of one hash, ``<namespace>#leases``: lease name ->
``"<expiry in ms> <owner>"``. ``acquire``, ``renew`` and ``release`` are Lua scripts
(``_LEASE``), each one compare-and-set; the time they compare with is the store's
``clock``, sent by the caller (so processes on several machines need synchronised
clocks, and tests can set the time).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from confluens.errors import CheckpointConflictError, MissingExtraError, StorageError
from confluens.stores.capabilities import StoreCapability
from confluens.stores.online.checkpoint import Checkpoint, StateWrite
from confluens.stores.online.lease import Lease

__all__ = ["RedisOnlineStore"]

# KEYS[1]: the checkpoint hash; KEYS[2..n]: the state keys.
# ARGV[1]: the seq the stored checkpoint must have ("0": none stored); ARGV[2]: the new
# seq; ARGV[3]: the checkpoint's JSON; ARGV[4]: the expiry instant in ms ("": none);
# ARGV[5..]: the state values, in the order of KEYS[2..].
# Returns {1, stored seq} when committed, {0, stored seq} when refused (nothing written).
_COMMIT = """
local stored = redis.call('HGET', KEYS[1], 'seq') or '0'
if stored ~= ARGV[1] then
  return {0, stored}
end
local expires = ARGV[4]
for i = 2, #KEYS do
  if expires == '' then
    redis.call('SET', KEYS[i], ARGV[i + 3])
  else
    redis.call('SET', KEYS[i], ARGV[i + 3], 'PXAT', expires)
  end
end
redis.call('HSET', KEYS[1], 'seq', ARGV[2], 'checkpoint', ARGV[3])
return {1, stored}
"""


# KEYS[1]: the leases hash. ARGV[1]: the operation (acquire, renew or release);
# ARGV[2]: the lease name; ARGV[3]: the owner; ARGV[4]: now in ms; ARGV[5]: the new
# expiry in ms. Returns 1 when done, 0 when refused (nothing changed).
_LEASE = """
local op, name, owner, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local held = redis.call('HGET', KEYS[1], name)
local mine, live = false, false
if held then
  local space = string.find(held, ' ', 1, true)
  live = tonumber(string.sub(held, 1, space - 1)) > now
  mine = string.sub(held, space + 1) == owner
end
if op == 'release' then
  if not mine then return 0 end
  redis.call('HDEL', KEYS[1], name)
  return 1
end
if op == 'renew' and not (mine and live) then return 0 end
if op == 'acquire' and held and live and not mine then return 0 end
redis.call('HSET', KEYS[1], name, ARGV[5] .. ' ' .. owner)
return 1
"""


class RedisOnlineStore:
    """One Redis string per (view, key), under a namespace; TTL by Redis expiry, at the
    instant ``clock() + ttl_seconds`` (``clock``: seconds since the epoch; Redis >= 6.2)."""

    capabilities = frozenset(StoreCapability) - {StoreCapability.REPLACE}

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
        self._commit_script = self._redis.register_script(_COMMIT)
        self._lease_script = self._redis.register_script(_LEASE)
        self._errors: Any = redis

    @property
    def location(self) -> str:
        """Which store this is (server, database and namespace; never a password)."""
        args = self._redis.connection_pool.connection_kwargs
        where = args.get("path") or f"{args.get('host')}:{args.get('port')}"
        return f"redis:{where}/{args.get('db', 0)}#{self.namespace}"

    def _key(self, view: str, key: str) -> str:
        return f"{self.namespace}:{view}:{key}"

    def _checkpoint_key(self, consumer: str) -> str:
        return f"{self.namespace}#checkpoint:{consumer}"

    def _expires_ms(self, ttl_seconds: float | None) -> int | None:
        return None if ttl_seconds is None else int((self.clock() + ttl_seconds) * 1000)

    def write(self, view: str, items: Mapping[str, bytes], *,
              ttl_seconds: float | None = None) -> int:
        pipe = self._redis.pipeline(transaction=False)
        expires_ms = self._expires_ms(ttl_seconds)
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

    def checkpoint(self, consumer: str) -> Checkpoint | None:
        text = self._redis.hget(self._checkpoint_key(consumer), "checkpoint")
        return None if text is None else Checkpoint.from_json(consumer, text)

    def commit(self, checkpoint: Checkpoint, writes: Sequence[StateWrite], *,
               ttl_seconds: float | None = None) -> None:
        """One script call (see the module's docstring): the state writes and the
        checkpoint, or, if the stored seq is not ``checkpoint.seq - 1``, neither."""
        keys = [self._checkpoint_key(checkpoint.consumer)]
        values: list[str | bytes | int] = []
        for view, items in writes:
            for key, value in items.items():
                keys.append(self._key(view, key))
                values.append(value)
        expires_ms = self._expires_ms(ttl_seconds)
        args = [checkpoint.seq - 1, checkpoint.seq, checkpoint.to_json(),
                "" if expires_ms is None else expires_ms, *values]
        try:
            committed, stored = self._commit_script(keys=keys, args=args)
        except self._errors.RedisError as exc:
            raise StorageError(f"Redis online store {self.location}",
                               f"the commit of stream consumer '{checkpoint.consumer}' "
                               "failed", got=str(exc),
                               fix="check that Redis is up and has memory, then restart the "
                               "processor: it resumes from the stored checkpoint, whether "
                               "or not this commit landed") from None
        if not committed:
            raise CheckpointConflictError(
                f"stream consumer '{checkpoint.consumer}'",
                f"a commit must follow the stored checkpoint {int(stored)}",
                got=checkpoint.seq,
                fix="run one processor per consumer and partition; restart this one to "
                "resume from the stored checkpoint")

    def acquire(self, name: str, owner: str, ttl_seconds: float) -> Lease | None:
        return self._lease("acquire", name, owner, ttl_seconds)

    def renew(self, name: str, owner: str, ttl_seconds: float) -> Lease | None:
        return self._lease("renew", name, owner, ttl_seconds)

    def release(self, name: str, owner: str) -> bool:
        return self._lease("release", name, owner, 0.0) is not None

    def leases(self, prefix: str) -> list[Lease]:
        out = []
        try:
            stored = self._redis.hgetall(self._leases_key())
        except self._errors.RedisError as exc:
            raise self._lease_error("the leases cannot be read", exc) from None
        for name, value in stored.items():
            text = name.decode()
            if text.startswith(prefix):
                expires_ms, _, owner = value.decode().partition(" ")
                out.append(Lease(text, owner, int(expires_ms) / 1000))
        return sorted(out, key=lambda lease: lease.name)

    def _leases_key(self) -> str:
        return f"{self.namespace}#leases"

    def _lease(self, op: str, name: str, owner: str, ttl_seconds: float) -> Lease | None:
        now_ms = int(self.clock() * 1000)
        expires_ms = now_ms + int(ttl_seconds * 1000)
        try:
            done = self._lease_script(keys=[self._leases_key()],
                                      args=[op, name, owner, now_ms, expires_ms])
        except self._errors.RedisError as exc:
            raise self._lease_error(f"the {op} of lease '{name}' failed", exc) from None
        return Lease(name, owner, expires_ms / 1000) if done else None

    def _lease_error(self, rule: str, exc: Exception) -> StorageError:
        return StorageError(f"Redis online store {self.location}", rule, got=str(exc),
                            fix="check that Redis is up; a stream worker that cannot "
                            "renew its leases stops writing and takes them again later")

    def close(self) -> None:
        self._redis.close()
