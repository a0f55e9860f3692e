"""Alias moves: the rules (pure), and two promotions racing for the same alias, with the
history on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from confluens.errors import InputError
from confluens.lifecycle.registry import AliasChange, AliasHistory, ModelRegistry
from confluens.lifecycle.registry.aliases import check_alias, check_reason, rollback_target
from tests.lifecycle.registry_helpers import make_registry, trained_model


def _move(action: str, to: int) -> AliasChange:
    return AliasChange("m", "champion", action, None, to, datetime.now(UTC), "me", "why")


@pytest.mark.parametrize(("moves", "target"), [
    ([], None),
    ([("promote", 1)], None),
    ([("promote", 1), ("promote", 2)], 1),
    ([("promote", 1), ("promote", 2), ("promote", 3), ("rollback", 2)], 1),
    ([("promote", 1), ("promote", 2), ("rollback", 1), ("promote", 3)], 1),
    ([("promote", 1), ("promote", 2), ("promote", 1)], 2),
])
def test_a_rollback_undoes_the_promotion_in_effect(moves, target):
    assert rollback_target([_move(a, v) for a, v in moves]) == target


def test_aliases_and_reasons_are_checked():
    assert check_alias("@challenger") == "challenger"
    assert check_reason("  better AP ") == "better AP"
    for bad in ("production", "", None, "@"):
        with pytest.raises(InputError, match="must be one of @champion, @challenger"):
            check_alias(bad)
    with pytest.raises(InputError, match="must say why"):
        check_reason(None)


def _race(registry: ModelRegistry, name: str, rounds: int) -> None:
    """Two threads promote versions 1 and 2 of ``name`` at the same instant, ``rounds``
    times; each move's "from" must be the version the move before it left."""
    errors: list[BaseException] = []

    def promote(version: int, barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            registry.promote(name, version, reason=f"race to {version}", by=f"t{version}")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    for _ in range(rounds):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=promote, args=(v, barrier)) for v in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors
    changes = registry.history(name, "champion")
    assert changes, "no move recorded"
    for before, after in itertools.pairwise(changes):
        assert after.from_version == before.to_version, changes  # no lost update
        assert after.to_version != before.to_version  # a no-op writes no row
    assert registry.version(name, "champion").version == changes[-1].to_version
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)


@pytest.fixture(scope="module")
def sqlite_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelRegistry]:
    registry = make_registry(tmp_path_factory.mktemp("aliases"))
    yield registry
    registry.alias_history.engine.dispose()


def _two_versions(registry: ModelRegistry) -> str:
    name = f"race_{uuid.uuid4().hex[:8]}"
    for seed in range(2):
        registry.record(trained_model("lightgbm", name=name, seed=seed))
    return name


def test_two_promotions_at_once_keep_the_history_exact_sqlite(sqlite_registry):
    _race(sqlite_registry, _two_versions(sqlite_registry), rounds=6)


@pytest.mark.service("postgres")
def test_the_history_on_postgresql(postgres_url, tmp_path):
    registry = make_registry(tmp_path, metadata_url=postgres_url)
    try:
        _postgres_moves(registry)
    finally:
        registry.alias_history.engine.dispose()


def _postgres_moves(registry: ModelRegistry) -> None:
    name = _two_versions(registry)
    registry.promote(name, 1, reason="first")
    registry.promote(name, 2, "challenger", reason="shadow")
    registry.promote(name, 2, reason="wins the shadow test")
    assert registry.rollback(name, reason="latency").to_version == 1
    assert [(c.alias, c.action, c.to_version) for c in registry.history(name)] == [
        ("champion", "promote", 1), ("challenger", "promote", 2), ("champion", "promote", 2),
        ("champion", "rollback", 1)]
    _race(registry, name, rounds=4)


def _hold_in_turn(history: AliasHistory) -> None:
    """Two threads enter ``moving`` for one alias at once: the second gets in only after
    the first has left (while a third, for another alias, need not wait)."""
    spans: dict[str, tuple[float, float]] = {}
    barrier = threading.Barrier(3)

    def hold(name: str, alias: str) -> None:
        barrier.wait()
        with history.moving("m", alias):
            entered = time.monotonic()
            time.sleep(0.4)
            left = time.monotonic()  # inside: once out, the other may enter at once
        spans[name] = (entered, left)

    threads = [threading.Thread(target=hold, args=args) for args in (
        ("a", "champion"), ("b", "champion"), ("c", "challenger"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = sorted((spans["a"], spans["b"]))
    assert second[0] >= first[1]  # never both inside


def test_moves_of_one_alias_take_turns_sqlite(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'metadata.db'}")
    try:
        _hold_in_turn(AliasHistory(engine))
    finally:
        engine.dispose()


@pytest.mark.service("postgres")
def test_moves_of_one_alias_take_turns_postgresql(postgres_url):
    engine = sa.create_engine(postgres_url)
    try:
        _hold_in_turn(AliasHistory(engine))
    finally:
        engine.dispose()
