"""The lookup engine's sort: rows ordered by (entity, time, then the tie keys).

``np.lexsort`` over (tie, entity x time) compares 64-bit keys in several passes and is
the slowest step of a backfill. Stored events come (almost) in time order, and ties
(equal entity and time) are rare, so the order is built in cheaper steps instead:

1. a stable sort by time, skipped when the rows already are in time order (a timsort,
   near-linear when they almost are);
2. a stable sort by entity number: a radix sort on 16-bit digits;
3. only the rows in groups of equal (entity, time) are sorted again by their tie keys,
   which ``ties`` gives for just those rows.

The result is the same total order a lexsort by (entity, time, ties...) gives.

>>> import numpy as np
>>> entity = np.array([1, 0, 1, 0, 1])
>>> time = np.array([5, 3, 5, 2, 1])
>>> order_by_entity_time(entity, 2, time, lambda rows: [np.array([9, 8, 7, 6, 5])[rows]])
array([3, 1, 4, 2, 0])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["Ties", "order_by_entity_time", "sort_by_entity_time", "stable_order_of_small_ints"]

_I64 = np.int64
_DIGIT = 1 << 16

#: The tie keys of the given rows (input positions), least significant first, as
#: ``np.lexsort`` takes them: e.g. the id, then a version.
Ties = Callable[[np.ndarray], list[np.ndarray]]


def stable_order_of_small_ints(values: np.ndarray, bound: int) -> np.ndarray:
    """The stable order sorting non-negative ints below ``bound``: radix passes on
    16-bit digits (numpy radix-sorts 16-bit types), least significant first."""
    if bound <= _DIGIT:
        return np.argsort(values.astype(np.uint16), kind="stable")
    if bound > _DIGIT * _DIGIT:
        return np.argsort(values, kind="stable")
    order = np.argsort((values & (_DIGIT - 1)).astype(np.uint16), kind="stable")
    high = (values[order] >> 16).astype(np.uint16)
    return order[np.argsort(high, kind="stable")]


def order_by_entity_time(entity: np.ndarray, entities: int, time: np.ndarray,
                         ties: Ties | None) -> np.ndarray:
    """The order sorting rows by (``entity``, ``time``, ties...); entity numbers lie in
    ``[0, entities)``. Without ``ties``, equal (entity, time) rows keep their input
    order."""
    return sort_by_entity_time(entity, entities, time, ties)[0]


def sort_by_entity_time(entity: np.ndarray, entities: int, time: np.ndarray,
                        ties: Ties | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``order_by_entity_time``'s order, with ``entity`` and ``time`` in that order."""
    if len(time) < 2:
        return np.arange(len(time), dtype=_I64), entity.copy(), time.copy()
    by_time: np.ndarray | None = None
    if not bool(np.all(time[1:] >= time[:-1])):
        by_time = np.argsort(time, kind="stable")
    in_time = entity if by_time is None else entity[by_time]
    order = stable_order_of_small_ints(in_time, entities)
    sorted_entity = in_time[order]
    if by_time is not None:
        order = by_time[order]
    sorted_time = time[order]
    if ties is not None:
        _order_ties(order, sorted_entity, sorted_time, ties)
    return order, sorted_entity, sorted_time


def _order_ties(order: np.ndarray, entity: np.ndarray, time: np.ndarray,
                ties: Ties) -> None:
    """Sort, in place, each run of rows of equal (entity, time) in ``order`` by its
    tie keys. Runs are contiguous, so sorting all their rows together by (entity,
    time, ties) puts each back in its own positions."""
    same = (entity[1:] == entity[:-1]) & (time[1:] == time[:-1])
    if not same.any():
        return
    grouped = np.zeros(len(order), dtype=bool)
    grouped[1:] = same
    grouped[:-1] |= same
    at = np.flatnonzero(grouped)
    rows = order[at]
    order[at] = rows[np.lexsort((*ties(rows), time[at], entity[at]))]
