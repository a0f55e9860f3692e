"""INTERIM (uncommitted): all events kept, no pruning. Replaced by the real ViewState."""

from __future__ import annotations

import json
import struct
from typing import Any

import pyarrow as pa

from confluens.plan.ir import ViewPlan, lower
from confluens.streaming.batch_events import entity_events
from confluens.streaming.packed import pack_events, unpack_events

__all__ = ["ViewState"]
_ENV = struct.Struct("<Bq")


def _kind(values: list[Any]) -> str:
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            return "?"
        if isinstance(v, int):
            return "q"
        if isinstance(v, float):
            return "d"
        if isinstance(v, str):
            return "s"
        return "j"
    return "d"


class ViewState:
    def __init__(self, plan: ViewPlan) -> None:
        self.plan = plan
        self.held: dict[str, dict[str, tuple[Any, ...]]] = {}

    def keys_of(self, batch: pa.Table) -> list[str]:
        cols = [batch[k].to_pylist() for k in self.plan.keys]
        return [json.dumps(list(v), default=str, separators=(",", ":"))
                for v in zip(*cols, strict=True)] if cols else ["[]"] * batch.num_rows

    def missing(self, keys: list[str]) -> list[str]:
        return sorted({k for k in keys if k not in self.held})

    def load(self, key: str, blob: bytes | None) -> None:
        self.held[key] = {}
        if blob is None:
            return
        p = unpack_events(blob[_ENV.size:], "x")
        for i in range(p.n):
            vals = {c: p.column(c)[i] for c in p.columns}
            flags = tuple(w for w in p.filters if p.passes(w)[i])
            self.held[key][p.tie[i]] = ((p.t[i], i, p.tie[i]), p.t[i], p.tie[i],
                                        p.known[i], vals, flags)

    def add(self, batch: pa.Table) -> set[str]:
        touched = set()
        for key, ev in entity_events(self.plan, batch).items():
            k = json.dumps(list(key), default=str, separators=(",", ":"))
            touched.add(k)
            held = self.held.setdefault(k, {})
            for i in range(len(ev.t)):
                tie = ev.tie[i]
                if tie in held:
                    continue
                vals = {c: ev.values[c][i] for c in ev.values}
                held[tie] = ((ev.t[i], 10**9, tie), ev.t[i], tie, ev.known[i], vals,
                             tuple(ev.flags[i]))
        return touched

    def blobs(self, keys: set[str], horizon_us: int) -> dict[str, bytes]:
        low = lower(self.plan)
        out = {}
        for k in keys:
            rows = sorted(self.held[k].values(), key=_order)
            cols = {c: [r[4].get(c) for r in rows] for c in low.value_columns}
            out[k] = _ENV.pack(0xE1, -(2**63)) + pack_events(
                [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows],
                {c: (_kind(v), v) for c, v in cols.items()},
                {w: [w in r[5] for r in rows] for w in low.filters})
        return out


def _order(r: tuple[Any, ...]) -> tuple[Any, ...]:
    tie = r[2]
    return (r[1], (0, int(tie), "") if tie.lstrip("-").isdigit() else (1, 0, tie))
