"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive connections,
prebuilt request bytes): little client work per request, so the latencies are mostly
the server's. Closed loop (a fixed number of requests in flight) or open loop (a
fixed rate, whatever the responses do).

While it sends, its own process's garbage collector is held off (what exists is
frozen first): the benchmark process holds a whole project, and a full collection
there stalled the sender for ~180 ms, which an open loop then sends as a burst, so the
server's latencies would include the client's pause.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from confluens.project.stream.collection import collection_paused

__all__ = ["Load", "closed_loop", "open_loop", "post"]


def post(path: str, body: bytes, host: str = "127.0.0.1") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


@dataclass
class Load:
    """Latencies (µs, send to last byte), non-200 responses, wall time and the
    largest lag of a send behind its schedule (open loop)."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    max_lag_ms: float = 0.0
    first_error: str = ""


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def call(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)


@contextmanager
def _collector_held_off() -> Iterator[None]:
    """``collection_paused`` (the stream processor's), what exists frozen first."""
    gc.collect()
    gc.freeze()
    try:
        with collection_paused():
            yield
    finally:
        gc.unfreeze()


async def _connect(port: int, n: int) -> list[_Conn]:
    return [_Conn(*await asyncio.open_connection("127.0.0.1", port)) for _ in range(n)]


async def _one(conn: _Conn, request: bytes, load: Load) -> None:
    start = time.perf_counter()
    status, body = await conn.call(request)
    load.latencies.append((time.perf_counter() - start) * 1e6)
    if status != 200:
        load.errors += 1
        load.first_error = load.first_error or body[:300].decode(errors="replace")


async def closed_loop(port: int, requests: Sequence[bytes], *, concurrency: int = 1,
                      pause: float = 0.0) -> Load:
    """Each of ``concurrency`` connections sends its share of ``requests`` one after
    the other (``pause`` seconds between a response and the next request)."""
    conns = await _connect(port, concurrency)
    load = Load()

    async def worker(k: int) -> None:
        for request in requests[k::concurrency]:
            await _one(conns[k], request, load)
            if pause:
                await asyncio.sleep(pause)

    with _collector_held_off():
        start = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        load.seconds = time.perf_counter() - start
    for c in conns:
        c.writer.close()
    return load


async def open_loop(port: int, requests: Sequence[bytes], *, rate: float,
                    connections: int = 32) -> Load:
    """``requests`` sent at ``rate`` per second, each on a free connection."""
    conns = await _connect(port, connections)
    free: asyncio.Queue[_Conn] = asyncio.Queue()
    for c in conns:
        free.put_nowait(c)
    load = Load()

    async def send(request: bytes) -> None:
        conn = await free.get()
        try:
            await _one(conn, request, load)
        finally:
            free.put_nowait(conn)

    loop = asyncio.get_running_loop()
    tasks = []
    with _collector_held_off():
        start = loop.time() + 0.01
        for i, request in enumerate(requests):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            load.max_lag_ms = max(load.max_lag_ms, (loop.time() - due) * 1000)
            tasks.append(asyncio.create_task(send(request)))
        await asyncio.gather(*tasks)
        load.seconds = loop.time() - start
    for c in conns:
        c.writer.close()
    return load
