"""Property: ingestion agrees with a tiny, obviously correct reference, record by record.

Random batches of raw CSV records, with missing, malformed and out-of-range values,
repeated ids with equal or different content, and exact repeats across batches.
"""

from __future__ import annotations

import csv
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import confluens

DEFINITIONS = '''
from confluens import Source, Range, OneOf
tx = Source("tx", {"id": "int64", "ts": "timestamp", "amount": "float64", "country": "string"},
            "ts", id="id", checks=[Range("amount", min=0), OneOf("country", ["FR", "DE"])])
'''

Raw = tuple[str | None, str | None, str | None, str | None]

raw_records = st.tuples(
    st.sampled_from(["1", "2", "3", "1.0", "2.5", "x", None]),
    st.sampled_from(["2024-01-01 00:00:00", "2024-01-02T10:00:00Z", "later", None]),
    st.sampled_from(["1", "1.0", "2.5", "-2", "abc", None]),
    st.sampled_from(["FR", "DE", "US", None]),
)


def parse_int(s: str) -> int | None:
    try:
        f = float(s)
    except ValueError:
        return None
    return int(f) if f == int(f) else None


def parse_float(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def parse_ts(s: str) -> str | None:
    return {"2024-01-01 00:00:00": "t1", "2024-01-02T10:00:00Z": "t2"}.get(s)


def classify(raw: Raw) -> tuple[tuple[object, ...], list[str]]:
    rid, ts, amount, country = raw
    rules: list[str] = []
    typed_id = None if rid is None else parse_int(rid)
    typed_ts = None if ts is None else parse_ts(ts)
    typed_amount = None if amount is None else parse_float(amount)
    if rid is None:
        rules.append("required:id")
    elif typed_id is None:
        rules.append("type:id")
    if ts is None:
        rules.append("required:ts")
    elif typed_ts is None:
        rules.append("type:ts")
    if amount is not None and typed_amount is None:
        rules.append("type:amount")
    if typed_amount is not None and typed_amount < 0:
        rules.append("range:amount")
    if country is not None and country not in ("FR", "DE"):
        rules.append("one_of:country")
    return (typed_id, typed_ts, typed_amount, country), rules


def reference(batches: list[list[Raw]]) -> list[Counter[str]]:
    stored: dict[object, tuple[object, ...]] = {}
    pending: set[Raw] = set()
    out = []
    for batch in batches:
        counts: Counter[str] = Counter()
        new: dict[object, tuple[object, ...]] = {}
        for raw in batch:
            typed, rules = classify(raw)
            status = "quarantined" if rules else "accepted"
            if not rules:
                known = stored.get(typed[0], new.get(typed[0]))
                if known is None:
                    new[typed[0]] = typed
                else:
                    status = "duplicates" if known == typed else "quarantined"
            if status == "quarantined":
                if raw in pending:
                    status = "duplicates"
                pending.add(raw)
            counts[status] += 1
        stored.update(new)
        out.append(counts)
    return out


def write(path: Path, batch: list[Raw]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", "ts", "amount", "country"])
        writer.writerows([["" if v is None else v for v in raw] for raw in batch])


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(batches=st.lists(st.lists(raw_records, max_size=12), min_size=1, max_size=3))
def test_ingestion_matches_the_reference(batches: list[list[Raw]]) -> None:
    expected = reference(batches)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "confluens.toml").write_text("")
        (root / "definitions.py").write_text(DEFINITIONS)
        with confluens.open(root) as project:
            project.apply()
            for i, (batch, want) in enumerate(zip(batches, expected, strict=True)):
                write(root / f"b{i}.csv", batch)
                run = project.ingest("tx", str(root / f"b{i}.csv"))
                got = Counter(accepted=run.accepted, quarantined=run.quarantined,
                              duplicates=run.duplicates)
                assert +got == +want, (i, batch)
                assert run.rows_in == len(batch)
            stored = project.table("tx").column("id").to_pylist()
            assert len(stored) == len(set(stored))
