"""What a caller asks to score, and what it gets back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ScoreRequest", "Scored"]


@dataclass(frozen=True, slots=True)
class ScoreRequest:
    """One row to score.

    ``keys``: entity key columns (``{"customer_id": "17", "terminal_id": "42"}``), as a
    training set's spine names them. ``fields``: request-time values (the transaction's
    amount...), which fill the model's ``request:`` inputs and override an online
    feature of the same column name; fields the model does not read are kept in the
    prediction log (e.g. a transaction id to join labels to later). ``at``: when the
    windows are evaluated (UTC-aware); None means now. ``origin``: where it came from
    (``http``, ``oip``, ``stream``), for the log.
    """

    keys: Mapping[str, Any]
    fields: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    origin: str = "http"


@dataclass(frozen=True, slots=True)
class Scored:
    """A prediction: its id (a UUIDv7, also the log's ``prediction_id``), the score,
    the model version that gave it, when the features were read, the model's inputs
    (column -> value; None where the value was missing) and ``missing``, the columns
    that got a default because their entity has no online state."""

    id: str
    score: float
    model: str
    version: int
    at: datetime
    inputs: dict[str, Any]
    missing: tuple[str, ...]
