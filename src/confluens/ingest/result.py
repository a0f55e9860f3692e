"""What one chunk, or one ingest run, did with its records."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["ChunkCounts"]


@dataclass(slots=True)
class ChunkCounts:
    """``rows_in == accepted + quarantined + duplicates`` always holds."""

    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    rules: Counter[str] = field(default_factory=Counter)  # quarantine rule -> records
    warnings: Counter[str] = field(default_factory=Counter)  # warn rule -> records

    def add(self, other: ChunkCounts) -> None:
        self.rows_in += other.rows_in
        self.accepted += other.accepted
        self.quarantined += other.quarantined
        self.duplicates += other.duplicates
        self.rules.update(other.rules)
        self.warnings.update(other.warnings)

    @property
    def reconciles(self) -> bool:
        return self.rows_in == self.accepted + self.quarantined + self.duplicates
