"""The garbage collector paced by the server: off while it runs, collections run when
due between batches, back on when it stops."""

from __future__ import annotations

import asyncio
import gc

from confluens.lifecycle.serve.collection import PacedCollection


def _cycles(n: int) -> None:
    """n container objects in reference cycles: only the collector frees them."""
    for _ in range(n):
        a: list[object] = []
        a.append(a)


def _until_older(pacing: PacedCollection) -> list[int | None]:
    """Make garbage and run what is due until an older generation is collected."""
    gc.collect()
    generations: list[int | None] = []
    while not generations or generations[-1] in (None, 0):
        _cycles(2 * gc.get_threshold()[0])
        generations.append(pacing.run_due())
        assert len(generations) < 100
    return generations


def test_collections_run_when_due_and_free_cycles() -> None:
    pacing = PacedCollection()
    was = gc.isenabled()
    pacing.start()
    try:
        assert not gc.isenabled()
        gc.collect()
        assert pacing.run_due() is None  # nothing allocated since: nothing due
        first = gc.get_threshold()[0]
        freed: list[int] = []

        def seen(phase: str, info: dict[str, int]) -> None:
            if phase == "stop":
                freed.append(info["collected"])

        generation = None
        for _ in range(3):  # a thread of an earlier test may collect in between: again
            gc.collect()
            _cycles(5 * first)
            assert gc.get_count()[0] >= first  # the automatic collector did not run
            freed.clear()
            gc.callbacks.append(seen)
            try:
                generation = pacing.run_due()
            finally:
                gc.callbacks.remove(seen)
            if generation is not None:
                break
        assert generation in (0, 1)
        assert sum(freed) >= first  # the cycles were reclaimed
        assert sum(pacing.collections) == 1
    finally:
        pacing.stop()
    assert gc.isenabled() == was


def test_a_middle_collection_falls_due_every_second_threshold_young_ones() -> None:
    pacing = PacedCollection(full_seconds=3600)
    pacing.start()
    try:
        generations = _until_older(pacing)
        assert generations[-1] == 1  # after as many young ones as the threshold says
        assert generations.count(0) >= gc.get_threshold()[1] - 1
    finally:
        pacing.stop()


def test_a_full_collection_replaces_a_middle_one_once_its_time_has_come() -> None:
    pacing = PacedCollection(full_seconds=0)
    pacing.start()
    try:
        assert _until_older(pacing)[-1] == 2
    finally:
        pacing.stop()


def test_stop_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    try:
        pacing = PacedCollection()
        pacing.start()
        pacing.stop()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_service_paces_the_collector_while_it_runs() -> None:
    from confluens.lifecycle.serve import ModelService

    service = ModelService(["m"], lambda name: (_ for _ in ()).throw(KeyError(name)),
                           lambda refs: None)

    async def main() -> tuple[bool, bool]:
        await service.start()  # the model fails to load: the service still runs
        during = gc.isenabled()
        await service.stop()
        return during, gc.isenabled()

    was = gc.isenabled()
    during, after = asyncio.run(main())
    assert during is False
    assert after is was
