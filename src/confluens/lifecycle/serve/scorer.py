"""Scoring a batch: one online read, one predict, one log call.

``Scorer.score_many`` takes requests for one model and, for the whole batch, reads
the model's online features in one store round trip, assembles its input columns
(inputs.py), calls ``predict`` (or ``predict_array``) once and hands the rows to the
prediction log. A request with a mistake (a missing key, a field of the wrong type) gets its own
``InputError`` in its place; the others are scored all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from confluens.errors import InputError
from confluens.lifecycle.serve.ids import uuid7
from confluens.lifecycle.serve.inputs import ModelInputs
from confluens.lifecycle.serve.log_table import LogColumns
from confluens.lifecycle.serve.reader import FeatureReader, ReaderFactory
from confluens.lifecycle.serve.request import Scored, ScoreRequest
from confluens.lifecycle.trained import LoadedModel, array_predict

__all__ = ["LogWriter", "Scorer"]

LogWriter = Callable[[list[dict[str, Any]] | LogColumns], None]
"""Takes a batch of prediction-log rows, or a batch's columns (log.py:
``PredictionLog.record``)."""


def _now() -> datetime:
    return datetime.now(UTC)


class Scorer:
    """Scores requests for ``model`` with the features ``readers`` reads online.

    ``log`` gets every prediction's log row (see log.py for the schema); ``clock``
    gives the time windows are evaluated at when a request names none.
    """

    def __init__(self, model: LoadedModel, readers: ReaderFactory, *,
                 log: LogWriter | None = None, clock: Callable[[], datetime] = _now) -> None:
        self.model = model
        self.inputs = ModelInputs(model.features, model.columns, model=model.name)
        self.reader: FeatureReader = readers(self.inputs.online)
        self._predict_array = array_predict(model)
        self.log = log
        self.clock = clock

    @property
    def keys(self) -> dict[str, str]:
        """The entity key columns a request must give, with their types."""
        return dict(self.reader.keys)

    def check(self, request: ScoreRequest) -> tuple[Any, ...]:
        """The request's converted keys; InputError for a mistake in it."""
        if request.at is not None and request.at.tzinfo is None:
            raise InputError("at", "must carry a time zone", got=request.at.isoformat(),
                             fix="write e.g. 2024-01-31T12:00:00Z")
        self.inputs.check_fields(request.fields)
        return self.reader.key_values(request.keys)

    def score(self, request: ScoreRequest) -> Scored:
        (result,) = self.score_many([request])
        if isinstance(result, InputError):
            raise result
        return result

    def score_many(self, requests: Sequence[ScoreRequest]) -> list[Scored | InputError]:
        """One result per request, in order: its prediction, or its InputError."""
        out: list[Scored | InputError | None] = [None] * len(requests)
        groups: dict[datetime | None, list[tuple[int, tuple[Any, ...]]]] = {}
        for i, request in enumerate(requests):
            try:
                keys = self.check(request)
            except InputError as exc:
                out[i] = exc
                continue
            groups.setdefault(request.at, []).append((i, keys))
        logged: list[dict[str, Any]] = []
        for at, members in groups.items():
            when = at or self.clock()
            try:
                scored = self._score(requests, members, when)
            except InputError as exc:  # e.g. a read before an entity's state answers
                if len(members) == 1:
                    out[members[0][0]] = exc
                    continue
                for member in members:  # score alone, so only the culprit fails
                    try:
                        scored = self._score(requests, [member], when)
                    except InputError as one:
                        out[member[0]] = one
                        continue
                    self._collect(requests, [member], scored, out, logged)
                continue
            self._collect(requests, members, scored, out, logged)
        if logged and self.log is not None:
            self.log(logged)
        return [r for r in out if r is not None]

    def _score(self, requests: Sequence[ScoreRequest],
               members: list[tuple[int, tuple[Any, ...]]], when: datetime) -> list[Scored]:
        read = self.reader.read([keys for _, keys in members], when) if self.inputs.online \
            else [([], []) for _ in members]
        fields = [requests[i].fields for i, _ in members]
        rows = self.inputs.rows(fields, [values for values, _ in read])
        scores = self._predict(rows)
        out = []
        for (_, found), row, given, score in zip(read, rows, fields, scores, strict=True):
            overridden = self.inputs.overridden(given) if given else set()
            missing = tuple(c for c, (kind, j) in zip(self.inputs.columns,
                                                       self.inputs.sources, strict=True)
                            if kind == "online" and not found[int(j)] and c not in overridden)
            out.append(Scored(str(uuid7()), float(score), self.model.name,
                              self.model.version, when, row, missing))
        return out

    def _predict(self, rows: list[dict[str, Any]]) -> Any:
        """The model's scores: from a float matrix when the model takes one and every
        input is a number (no pandas frame per batch), else from a frame."""
        if self._predict_array is not None:
            matrix = self.inputs.matrix(rows)
            if matrix is not None:
                return self._predict_array(matrix)
        return self.model.predict(self.inputs.frame_of(rows))

    def _collect(self, requests: Sequence[ScoreRequest],
                 members: list[tuple[int, tuple[Any, ...]]], scored: list[Scored],
                 out: list[Scored | InputError | None], logged: list[dict[str, Any]]) -> None:
        names = tuple(self.reader.keys)
        for (i, keys), result in zip(members, scored, strict=True):
            out[i] = result
            if self.log is not None:
                logged.append({"scored": result, "keys": dict(zip(names, keys, strict=True)),
                               "request": requests[i]})
