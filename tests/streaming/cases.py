"""Random views and events for the streaming tests, from the conformance suite's
generators (``plan/conformance.py``): every aggregation kind, time and event-count
windows, delays, filters over source and derived columns, known-at times, versions,
null keys, views without an entity and snapshots."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pyarrow as pa

from confluens.core import Entity, FeatureView, Snapshot
from confluens.plan import conformance
from confluens.plan.ir import ViewPlan, plan_view

S = 1_000_000
T0_US = int(conformance.T0.timestamp()) * S


@dataclass(frozen=True)
class Drawn:
    """A view's plan and its events (the source's columns)."""

    plan: ViewPlan
    events: pa.Table


def drawn(seed: int, n: int) -> Drawn:
    """One random view and ``n`` random events, from ``seed``."""
    rng = random.Random(f"streaming/{seed}")
    gen = conformance._Gen(rng, keys=rng.choice((("a", "b"), ("a", None), ("a",))),
                           span=rng.choice((3, 12, 30)), versions=rng.random() < 0.3,
                           known=rng.random() < 0.4, entity=rng.random() < 0.85)
    view: FeatureView
    if rng.random() < 0.15:
        ttl = rng.choice((None, 1, 2, 5))
        view = Snapshot("snap", Entity("k", ["k"]) if gen.entity else None, gen.source(),
                        ["v", "s"], ttl=None if ttl is None else f"{ttl}s",
                        ttl_inclusive=rng.random() < 0.5, nulls=rng.choice(("value", "skip")))
    else:
        features = [gen.aggregation(f"f{i}", sorted(conformance.ALL_KINDS),
                                    delays=(0, 1, 3), wheres=(None, "u > 0", "w > 1"),
                                    columns=("v", "w"))
                    for i in range(rng.randint(1, 4))]
        view = gen.view(features, derive={"w": "v * u"})
    return Drawn(plan_view(view), gen.events(n))
