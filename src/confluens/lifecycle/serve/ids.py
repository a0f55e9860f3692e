"""Prediction ids: UUID version 7 (RFC 9562), time-ordered, so ids sort by creation.

>>> a, b = uuid7(), uuid7()
>>> a.version, a < b
(7, True)
"""

from __future__ import annotations

import os
import threading
import time
import uuid

__all__ = ["uuid7"]

_lock = threading.Lock()
_last = [0, 0]  # the last (milliseconds, counter): ids of one millisecond stay ordered


def uuid7() -> uuid.UUID:
    """48 bits of Unix milliseconds, a 12-bit counter within the millisecond (method 1
    of RFC 9562 §6.2), then 62 random bits."""
    ms = time.time_ns() // 1_000_000
    with _lock:
        if ms <= _last[0]:
            ms, counter = _last[0], _last[1] + 1
            if counter > 0xFFF:  # 4096 ids in one millisecond: borrow the next one
                ms, counter = ms + 1, 0
        else:
            counter = 0
        _last[0], _last[1] = ms, counter
    rand = int.from_bytes(os.urandom(8)) & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    return uuid.UUID(int=value)
