"""Features at given times over an entity's held events, before they are pruned.

A stream processor that scores events (project/stream/scoring.py) needs each event's
features as of the event's own time, with every event of its micro-batch merged in.
After the batch is written, the state is pruned at the watermark and may no longer
answer for earlier times (an ``Events(1)`` window keeps only the latest event), so the
features are evaluated between :meth:`ViewState.add` and :meth:`ViewState.blobs`, over
the merged events (:class:`HeldColumns`, the evaluator's view of a ``HeldEvents``).

A time before the one from which the held events answer exactly (a late event, older
than events the state already left out) gets None: it is never answered wrongly.
``features_at_many`` evaluates many entities' windows in one pass (window_many.py);
``feature_columns_many`` gives the same values as one list per feature (what scoring
puts in the model's input matrix), with whether each time is answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from confluens.plan.ir import ViewPlan, lower
from confluens.streaming.exact_reads import earliest_exact
from confluens.streaming.held_events import HeldEvents
from confluens.streaming.window_events import compile_plan
from confluens.streaming.window_many import evaluate_many, evaluate_many_columns, placed

__all__ = ["HeldColumns", "feature_columns_many", "features_at", "features_at_many"]


class HeldColumns:
    """``HeldEvents`` as the window evaluator reads events (``EventColumns``)."""

    def __init__(self, held: HeldEvents) -> None:
        self.held = held
        self.t = held.t
        self._late = any(k > t for k, t in zip(held.known, held.t, strict=True))
        self._nulls: dict[str, bool] = {}
        self._max_known = max(held.known) if self._late else None

    def column(self, name: str) -> Sequence[Any]:
        return self.held.values[name]

    def values_of(self, name: str, lo: int, hi: int) -> Sequence[Any]:
        return self.held.values[name][lo:hi]

    def has_nulls(self, name: str) -> bool:
        found = self._nulls.get(name)
        if found is None:
            found = self._nulls[name] = None in self.held.values[name]
        return found

    def passes(self, where: str) -> Sequence[Any]:
        return self.held.passes[where]

    def unknown_at(self, at: int) -> Sequence[int] | None:
        late = self._max_known is not None and self._max_known > at
        return self.held.known if late else None


def features_at(plan: ViewPlan, held: HeldEvents, times: Sequence[int],
                ) -> list[dict[str, Any] | None]:
    """Every feature of ``plan`` at each of ``times`` (µs), None where not exact."""
    return features_at_many(plan, [(held, times)])[0]


def features_at_many(plan: ViewPlan, entities: Sequence[tuple[HeldEvents, Sequence[int]]],
                     ) -> list[list[dict[str, Any] | None]]:
    """``[features_at(plan, held, times) for held, times in entities]``, the windows of
    every entity evaluated in one pass (window_many.py)."""
    cutoffs, asked = _exact(plan, entities)
    out: list[list[dict[str, Any] | None]] = []
    for (_, times), earliest, (_, exact), found in zip(
            entities, cutoffs, asked, evaluate_many(compile_plan(plan), asked), strict=True):
        if len(exact) == len(times):
            out.append(list(found))
            continue
        values = iter(found)
        out.append([None if at < earliest else next(values) for at in times])
    return out


def feature_columns_many(plan: ViewPlan,
                         entities: Sequence[tuple[HeldEvents, Sequence[int]]],
                         ) -> tuple[dict[str, list[Any]], list[bool]]:
    """The values of ``features_at_many(plan, entities)`` as columns (feature -> its
    values, every entity's times end to end), and for each time whether it is answered
    (False where ``features_at_many`` gives None; every feature's value there is None)."""
    compiled = compile_plan(plan)
    cutoffs, asked = _exact(plan, entities)
    answered = [at >= earliest for (_, times), earliest in zip(entities, cutoffs, strict=True)
                for at in times]
    columns = evaluate_many_columns(compiled, asked)
    if not all(answered):
        rows = [i for i, ok in enumerate(answered) if ok]
        columns = placed(columns, rows, len(answered))
    return {name: column for (name, *_), column in zip(compiled.outputs, columns,
                                                          strict=True)}, answered


def _exact(plan: ViewPlan, entities: Sequence[tuple[HeldEvents, Sequence[int]]],
           ) -> tuple[list[int], list[tuple[HeldColumns, list[int]]]]:
    """Per entity, the earliest time its held events answer exactly, and the entity
    as the evaluator reads it with those of its times that are answered."""
    low = lower(plan)
    cutoffs: list[int] = []
    asked: list[tuple[HeldColumns, list[int]]] = []
    for held, times in entities:
        passes: dict[str | None, Sequence[bool]] = {None: [True] * len(held)}
        passes.update(held.passes)
        earliest = earliest_exact(low, held.left_out, held.t, held.known, passes,
                                  held.horizon if held.horizon is not None else max(
                                      held.t, default=0))
        cutoffs.append(earliest)
        asked.append((HeldColumns(held), [at for at in times if at >= earliest]))
    return cutoffs, asked
