"""One entity's held events while a stream processor changes them: merge, prune, encode.

:class:`HeldEvents` is the unpacked form of an entity's stored value
(``streaming/stored_state.py``): its kept events as columns in event order (time,
then version, then id in the id's own order: integer ids compare as integers), the
time of the latest event ever left out, and the horizon it was last pruned at. A
processor opens it when a micro-batch touches the entity, :meth:`~HeldEvents.merge`
adds the batch's events (late ones placed among the held ones; an id already held is
skipped, so replays change nothing), and :meth:`~HeldEvents.seal` prunes it at the
watermark (``streaming/retention.py``) and encodes it again; :func:`seal_many` does
that for all the entities a micro-batch touched at once (``streaming/packed_many.py``),
byte for byte the same. Between micro-batches only the encoded value is kept
(``streaming/entity_state.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain
from typing import Any

from confluens.errors import ProjectError
from confluens.plan.ir import ViewPlan, lower
from confluens.streaming.packed import unpack_events
from confluens.streaming.retention import retained
from confluens.streaming.stored_state import encode_entities, encode_entity, open_state

__all__ = ["CHUNK_EVENTS", "HeldEvents", "Tie", "held_slices", "seal_many"]

Tie = int | str  # an event's id, in its own type: it orders events of equal (time, version)


@dataclass(slots=True)
class HeldEvents:
    """One entity's events in event order, as columns.

    ``versions`` is None when the source has no version column; ``left_out`` the
    time of the latest event left out so far (None: none); ``horizon`` the time the
    events were last pruned at (None: never).
    """

    t: list[int]
    versions: list[int] | None
    ties: list[Tie]
    known: list[int]
    values: dict[str, list[Any]]
    passes: dict[str, list[bool]]
    left_out: int | None = None
    horizon: int | None = None

    @classmethod
    def empty(cls, plan: ViewPlan) -> HeldEvents:
        low = lower(plan)
        return cls([], None if plan.version is None else [], [], [],
                    {c: [] for c in low.value_columns}, {w: [] for w in low.filters})

    @classmethod
    def opened(cls, plan: ViewPlan, blob: bytes, integer_ties: bool) -> HeldEvents:
        """The events of a stored value (written by materialize or by a processor)."""
        what = f"feature view '{plan.name}'"
        state = open_state(blob, what)
        packed = unpack_events(state.packed, what)
        versions = packed.versions
        if plan.version is not None and versions is None:
            raise ProjectError(f"online state of {what}", "holds no versions, and its "
                               f"source orders events by '{plan.version}'",
                               got="no versions",
                               fix="run `confluens materialize` to rebuild it")
        low = lower(plan)
        return cls(list(packed.t), None if plan.version is None else list(versions or ()),
                   list(map(int, packed.tie)) if integer_ties else list(packed.tie),
                   list(packed.known), {c: list(packed.column(c)) for c in low.value_columns},
                   {w: list(map(bool, packed.passes(w))) for w in low.filters},
                   state.left_out, state.horizon)

    def __len__(self) -> int:
        return len(self.t)

    def _key(self, i: int) -> tuple[int, int, Tie]:
        return (self.t[i], 0 if self.versions is None else self.versions[i], self.ties[i])

    def merge(self, new: HeldEvents) -> None:
        """Add ``new``'s events (in event order) whose ids are not held yet, each in
        its place in event order."""
        fresh = set(new.ties)
        take: list[int] | None = None  # None: every one of new's events
        if len(fresh) != len(new.ties) or not fresh.isdisjoint(self.ties):
            seen = set(self.ties)
            take = []
            for i, tie in enumerate(new.ties):
                if tie not in seen:
                    seen.add(tie)
                    take.append(i)
            if not take:
                return
        if not new.ties:
            return
        at = len(self.t)
        appended = not at or self._key(at - 1) < new._key(0 if take is None else take[0])

        def extend(column: list[Any], more: list[Any]) -> None:
            column.extend(more if take is None else [more[i] for i in take])

        extend(self.t, new.t)
        if self.versions is not None and new.versions is not None:
            extend(self.versions, new.versions)
        extend(self.ties, new.ties)
        extend(self.known, new.known)
        for name, column in self.values.items():
            extend(column, new.values[name])
        for where, flags in self.passes.items():
            extend(flags, new.passes[where])
        if not appended:  # late events: put every event in its place
            self._reorder(sorted(range(len(self.t)), key=self._key))

    def _reorder(self, order: Sequence[int]) -> None:
        def pick(column: list[Any]) -> list[Any]:
            return [column[i] for i in order]

        self.t = pick(self.t)
        if self.versions is not None:
            self.versions = pick(self.versions)
        self.ties = pick(self.ties)
        self.known = pick(self.known)
        self.values = {name: pick(column) for name, column in self.values.items()}
        self.passes = {where: pick(flags) for where, flags in self.passes.items()}

    def prune(self, plan: ViewPlan, horizon: int) -> None:
        """Leave out what no read from ``horizon`` on can see (``streaming/retention.py``;
        a horizon below the one last pruned at is taken as that one)."""
        if self.horizon is not None:
            horizon = max(horizon, self.horizon)
        kept = retained(plan, self.t, self.known, self.passes, horizon)
        if kept.left_out is not None:
            self.left_out = (kept.left_out if self.left_out is None
                             else max(self.left_out, kept.left_out))
            self._reorder(kept.kept)
        self.horizon = horizon

    def seal(self, plan: ViewPlan, horizon: int) -> bytes:
        """Prune at ``horizon`` and encode: the entity's stored value."""
        self.prune(plan, horizon)
        assert self.horizon is not None
        return encode_entity(plan, self.t, self.versions, [str(x) for x in self.ties],
                             self.known, self.values, self.passes, left_out=self.left_out,
                             horizon=self.horizon)


#: How many events ``seal_many`` encodes together at most (a single entity's may be
#: more): enough to amortise the per-call work, few enough that the columns it
#: gathers for them stay a few MiB, whatever the number of entities touched.
CHUNK_EVENTS = 65_536


def seal_many(plan: ViewPlan, held: Sequence[HeldEvents], horizon: int, *,
              chunk_events: int = CHUNK_EVENTS) -> list[bytes]:
    """:meth:`HeldEvents.seal` of each of ``held`` (each pruned in place), encoded
    together (``stored_state.encode_entities``), up to about ``chunk_events`` events
    at a time: the same bytes, in about 0.6 times the CPU time for the many small
    entities of a micro-batch (docs/streaming.md)."""
    low = lower(plan)
    back = low.retention.time_back_us
    for one in held:
        at = horizon if one.horizon is None or horizon > one.horizon else one.horizon
        if not one.t or (back is not None and one.t[0] > at - back):
            one.horizon = at  # every event is in the time windows: retained keeps all
        else:
            one.prune(plan, horizon)
    out: list[bytes] = []
    start = events = 0
    for end, one in enumerate(held, 1):
        events += len(one.t)
        if events >= chunk_events or end == len(held):
            out += _encoded(plan, held[start:end])
            start, events = end, 0
    return out


def _encoded(plan: ViewPlan, held: Sequence[HeldEvents]) -> list[bytes]:
    """The stored values of pruned held events, encoded together."""
    low = lower(plan)
    bounds = [0, *accumulate(len(one.t) for one in held)]

    def joined(columns: Iterable[list[Any]]) -> list[Any]:
        return list(chain.from_iterable(columns))

    t = joined([one.t for one in held])
    versions = (None if plan.version is None
                else joined([one.versions or [] for one in held]))
    return encode_entities(
        plan, bounds, t, versions,
        joined([one.ties for one in held]),  # integer ids: packed as their text
        # without a known-at column every event is known at its time
        t if plan.known_at is None else joined([one.known for one in held]),
        {c: joined([one.values[c] for one in held]) for c in low.value_columns},
        {w: joined([one.passes[w] for one in held]) for w in low.filters},
        left_out=[one.left_out for one in held],
        horizon=[one.horizon or 0 for one in held])


def held_slices(groups: Sequence[tuple[int, int]], t: list[int],
                versions: list[int] | None, ties: list[Tie], known: list[int],
                values: Mapping[str, list[Any]],
                passes: Mapping[str, list[bool]]) -> list[HeldEvents]:
    """The events of each ``[lo, hi)`` of a batch's columns, each slice already in
    event order (``entity_state.py`` sorts a batch by entity, then event order)."""
    return [HeldEvents(t[lo:hi], None if versions is None else versions[lo:hi],
                       ties[lo:hi], known[lo:hi],
                       {c: column[lo:hi] for c, column in values.items()},
                       {w: flags[lo:hi] for w, flags in passes.items()})
            for lo, hi in groups]
