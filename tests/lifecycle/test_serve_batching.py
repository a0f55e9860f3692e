"""Micro-batching as pure logic: coalescing, order, and errors per item."""

from __future__ import annotations

import asyncio

import pytest

from confluens.lifecycle.serve import MicroBatcher


def run(coro):
    return asyncio.run(coro)


def test_concurrent_items_share_batches_and_keep_their_order():
    seen: list[list[int]] = []

    def score(items: list[int]) -> list[int]:
        seen.append(items)
        return [i * 10 for i in items]

    async def main() -> list[int]:
        batcher = MicroBatcher(score, max_batch=8)
        await batcher.start()
        out = await asyncio.gather(*(batcher.submit(i) for i in range(20)))
        await batcher.stop()
        return list(out)

    assert run(main()) == [i * 10 for i in range(20)]
    assert [len(b) for b in seen] == [8, 8, 4]
    assert [i for b in seen for i in b] == list(range(20))


def test_a_lone_item_is_scored_without_waiting_for_company():
    """max_wait is an upper bound: with nothing else queued the batch closes after a
    few idle loop turns, long before a 10-second max_wait."""

    async def main() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        batcher = MicroBatcher(lambda items: items, max_wait=10.0)
        await batcher.start()
        start = loop.time()
        value = await asyncio.wait_for(batcher.submit(7), timeout=5)
        await batcher.stop()
        return value, loop.time() - start

    value, _ = run(main())
    assert value == 7


def test_an_item_error_goes_to_its_caller_only():
    def score(items: list[int]) -> list[object]:
        return [ValueError(f"bad {i}") if i == 2 else i for i in items]

    async def main():
        batcher = MicroBatcher(score)
        await batcher.start()
        out = await asyncio.gather(*(batcher.submit(i) for i in range(4)),
                                   return_exceptions=True)
        many = await batcher.submit_many([1, 2])
        await batcher.stop()
        return out, many

    out, many = run(main())
    assert out[:2] == [0, 1]
    assert out[3] == 3
    assert isinstance(out[2], ValueError)
    assert str(out[2]) == "bad 2"
    assert many[0] == 1
    assert isinstance(many[1], ValueError)


def test_a_failing_batch_fails_each_of_its_callers():
    def score(items: list[int]) -> list[int]:
        raise RuntimeError("model broke")

    async def main():
        batcher = MicroBatcher(score)
        await batcher.start()
        out = await asyncio.gather(batcher.submit(1), batcher.submit(2),
                                   return_exceptions=True)
        await batcher.stop()
        return out

    assert all(isinstance(e, RuntimeError) for e in run(main()))


def test_submitting_needs_a_started_batcher():
    with pytest.raises(RuntimeError, match="start"):
        run(MicroBatcher(lambda items: items).submit(1))


@pytest.mark.parametrize("many", [False, True])
def test_after_batch_runs_once_the_callers_have_their_results(many: bool):
    """The hook (a paced garbage collection) runs after the batch's callers resumed,
    so it never delays their answers: callers of ``submit`` (one loop turn) and of
    ``submit_many`` (asyncio.gather: three)."""
    events: list[str] = []

    async def main() -> None:
        batcher = MicroBatcher(lambda items: items,
                               after_batch=lambda: events.append("after"))
        await batcher.start()

        async def caller(i: int) -> None:
            await (batcher.submit_many([i, i + 1]) if many else batcher.submit(i))
            events.append(f"answered {i}")

        await asyncio.gather(*(caller(i) for i in (0, 10, 20)))
        for _ in range(4):
            await asyncio.sleep(0)
        await batcher.stop()

    run(main())
    assert events == ["answered 0", "answered 10", "answered 20", "after"]
