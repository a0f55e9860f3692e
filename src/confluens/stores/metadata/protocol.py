"""The metadata store protocol and the records it keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

__all__ = ["AppliedDefinition", "IngestRun", "MetadataStore", "QuarantineBatch"]


@dataclass(frozen=True, slots=True)
class AppliedDefinition:
    key: str  # "source:transactions"
    version: int
    spec_hash: str
    spec: dict[str, Any]
    applied_at: datetime


@dataclass(slots=True)
class IngestRun:
    run_id: str
    source: str
    input: str
    definition_version: int
    started_at: datetime
    status: str = "running"  # running | succeeded | failed | interrupted
    finished_at: datetime | None = None
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    warnings: dict[str, int] = field(default_factory=dict)  # warn-only rule -> records
    rules: dict[str, int] = field(default_factory=dict)  # quarantine rule -> records
    error: str | None = None
    pid: int | None = None  # the process running it, on ``host``: tells a dead run
    host: str | None = None

    @property
    def reconciles(self) -> bool:
        return self.rows_in == self.accepted + self.quarantined + self.duplicates


@dataclass(frozen=True, slots=True)
class QuarantineBatch:
    batch_id: str
    run_id: str
    source: str
    path: str
    rows: int
    rules: dict[str, int]
    status: str  # pending | retried
    created_at: datetime


class MetadataStore(Protocol):
    """What confluens remembers between commands. Every method is one transaction."""

    def applied(self) -> dict[str, AppliedDefinition]:
        """The latest applied version of every definition that is not removed."""
        ...

    def apply(self, specs: dict[str, dict[str, Any]], at: datetime) -> dict[str, int]:
        """Record the full set of specs as current; return the version of each key."""
        ...

    def history(self, key: str) -> list[AppliedDefinition]:
        ...

    def start_run(self, run: IngestRun) -> None:
        ...

    def finish_run(self, run: IngestRun) -> None:
        ...

    def update_run(self, run: IngestRun) -> None:
        """Record a run's counts and status so far (as each chunk commits)."""
        ...

    def runs(self, source: str | None = None) -> list[IngestRun]:
        ...

    def add_quarantine(self, batch: QuarantineBatch) -> None:
        ...

    def quarantine(self, source: str, status: str | None = "pending") -> list[QuarantineBatch]:
        ...

    def set_quarantine_status(self, batch_ids: list[str], status: str) -> None:
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...
