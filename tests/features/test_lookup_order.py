"""The lookup engine's sort (plan/lookup_order.py) gives exactly the order of one
lexsort by (entity, time, tie keys), whatever the input order, ties or entity count."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from confluens.plan.lookup_order import order_by_entity_time, stable_order_of_small_ints


def _lexsort(entity: np.ndarray, time: np.ndarray, tie: np.ndarray,
             version: np.ndarray) -> np.ndarray:
    return np.lexsort((tie, version, time, entity))


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6), st.integers(-3, 3)),
                     max_size=40),
       presorted=st.booleans(), scale=st.sampled_from([1, 2**16 + 3, 2**33]))
def test_the_order_is_the_lexsort_by_entity_time_version_and_tie(rows, presorted,
                                                                 scale) -> None:
    if presorted:  # stored events usually come in time order
        rows = sorted(rows, key=lambda r: r[1])
    entity = np.array([e * scale for e, _, _ in rows], dtype=np.int64)
    time = np.array([t for _, t, _ in rows], dtype=np.int64)
    version = np.array([v for *_, v in rows], dtype=np.int64)
    tie = np.arange(len(rows), dtype=np.int64)[::-1].copy()  # ids against input order

    def ties(at: np.ndarray) -> list[np.ndarray]:
        return [tie[at], version[at]]

    bound = int(entity.max()) + 1 if len(rows) else 1
    got = order_by_entity_time(entity, bound, time, ties)
    assert got.tolist() == _lexsort(entity, time, tie, version).tolist()


def test_without_ties_equal_rows_keep_their_input_order() -> None:
    entity = np.array([1, 0, 1, 0, 1], dtype=np.int64)
    time = np.array([5, 3, 5, 3, 1], dtype=np.int64)
    assert order_by_entity_time(entity, 2, time, None).tolist() == [1, 3, 4, 0, 2]


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.integers(0, 2**20), max_size=50))
def test_small_ints_sort_stably_across_16_bit_digits(values) -> None:
    array = np.array(values, dtype=np.int64)
    got = stable_order_of_small_ints(array, 2**20 + 1)
    assert got.tolist() == np.argsort(array, kind="stable").tolist()
