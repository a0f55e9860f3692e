"""Scoring an event as it happens: the event itself counts in its own features.

A training-set row at a transaction's time sees the transaction (a window ``(t - w,
t]`` holds it), so a model trained on such rows expects the event it scores to count
in its windows: the customer's number of transactions today includes this one. An
online read cannot see an event that is not stored yet, so ``/v1/models/{name}/predict``
at the event's time gives the model one event fewer than training did, a skew that
grows with short windows. ``EventScorer`` gives what training and ``confluens stream
--score`` give:

1. the event is judged as ingest would judge it (types, checks); a record that would
   be quarantined gets the check's rule and reason instead of a score;
2. it is folded into a private copy of its entities' window state, read from the
   online store, for each view of the scored source (the streaming engine's
   ``ViewState``: an event whose id the state already holds counts once);
3. the model scores it at its own event time: features of other views (a terminal's
   fraud rate, from labels) are read online at that time.

Nothing is written but the prediction log: the event reaches the offline and online
stores when it is ingested or streamed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import sqlglot.expressions as exp

from confluens.connectors import records_chunk
from confluens.core import Definitions, Source
from confluens.duckdb_session import connect
from confluens.errors import InputError, UnknownNameError
from confluens.ingest.judge import judge_chunk
from confluens.ingest.stage import Stage
from confluens.lifecycle.serve import LogWriter, ModelService, Scored
from confluens.lifecycle.serve.ids import uuid7
from confluens.lifecycle.serve.inputs import REQUEST
from confluens.lifecycle.trained import LoadedModel
from confluens.plan.ir import plan_view
from confluens.project.stream.scoring import StreamScorer
from confluens.project.training import resolve_features
from confluens.sqlx import lit, render, table_ref
from confluens.stores.online import OnlineStore
from confluens.stores.quarantine import QUARANTINE_SCHEMA
from confluens.streaming import ViewState

__all__ = ["EventScorer", "EventScoring"]

_LINES = pa.schema([("position", pa.int64()), ("line", pa.string())])


class EventScorer:
    """Scores records of ``source`` with ``model``, each counting in its own features
    (see the module docstring); predictions go to ``log`` with origin ``event``."""

    def __init__(self, definitions: Definitions, online: OnlineStore, model: LoadedModel,
                 source: Source, *, log: LogWriter | None = None) -> None:
        self.model = model
        self.source = source
        self.online = online
        self.scorer = StreamScorer(definitions, model, source, log=log)
        self._plans = [plan_view(v) for v in self.scorer.state_views]
        self._stage: Stage | None = None
        self._lock = threading.Lock()  # the judge's DuckDB session is not shared

    @property
    def key_columns(self) -> list[str]:
        return self.scorer.key_columns

    def score(self, records: Sequence[Mapping[str, Any]]) -> list[Scored | InputError]:
        """One result per record, in order: its prediction, or the InputError saying
        why it cannot be scored (a check it fails, a repeated id, a time older than the
        online state answers exactly)."""
        accepted, errors = self._judge(records)
        states: dict[str, ViewState] = {}
        for plan in self._plans:
            state = ViewState(plan)
            missing = state.missing(state.keys_of(accepted))
            if missing:
                (blobs,) = self.online.read_many([(plan.name, missing)])
                for key, blob in zip(missing, blobs, strict=True):
                    state.load(key, blob)
            state.add(accepted)
            states[plan.name] = state
        predicted = self.scorer.predict(accepted, states, self.online)
        # fresh ids: the stream gives an event's prediction an id derived from the event,
        # and the same event may be scored here first and streamed later
        predicted = predicted.with_ids([str(uuid7()) for _ in predicted.rows])
        self.scorer.log_predictions(predicted, "event")
        by_row = dict(zip(predicted.rows, predicted.scored, strict=True))
        row_of = {i: n for n, i in enumerate(i for i in range(len(records))
                                             if i not in errors)}
        out: list[Scored | InputError] = []
        for i in range(len(records)):
            if i in errors:
                out.append(errors[i])
                continue
            scored = by_row.get(row_of[i])
            out.append(scored if scored is not None else InputError(
                f"event {i} of source '{self.source.name}'", "is older than the online "
                "state answers exactly for its entity", got=str(records[i].get(
                    self.source.event_time)),
                fix="score it with a training set (point-in-time), or run `confluens "
                "materialize` to rebuild the state"))
        return out

    def _judge(self, records: Sequence[Mapping[str, Any]],
               ) -> tuple[pa.Table, dict[int, InputError]]:
        """The accepted records (in order), and an error for each other one."""
        lines = pa.table({"position": list(range(len(records))),
                          "line": [json.dumps(dict(r), default=str) for r in records]},
                         schema=_LINES)
        chunk = records_chunk(f"events for model '{self.model.name}'", lines,
                              [f.input_name for f in self.source.schema])
        with self._lock:
            stage = self._stage or self._new_stage()
            try:
                judged = judge_chunk(stage, self.source, chunk)
            except BaseException:
                stage.close()
                self._stage = None
                raise
            kept = _accepted_rows(stage)
        errors: dict[int, InputError] = {}
        for row in judged.quarantined.to_pylist():
            rule, reason = str(row["rule"]), str(row["reason"])
            errors[int(row["position"])] = InputError(
                f"event {row['position']} of source '{self.source.name}'",
                f"fails {rule}: {reason.removeprefix(f'{rule}: ')}", got=row["record"],
                fix="correct the record as `confluens ingest` would require")
        for i in range(len(records)):
            if i not in errors and i not in kept:
                errors[i] = InputError(f"event {i} of source '{self.source.name}'",
                                       "repeats an earlier event of the request (the same "
                                       "id, or the same record)", got=dict(records[i]),
                                       fix="send each event once")
        return judged.accepted, errors

    def _new_stage(self) -> Stage:
        stage = Stage(connect(), self.source, "event", datetime.now(UTC))
        stage.load_state([], QUARANTINE_SCHEMA.empty_table())
        self._stage = stage
        return stage

    def close(self) -> None:
        with self._lock:
            if self._stage is not None:
                self._stage.close()
                self._stage = None


def _accepted_rows(stage: Stage) -> set[int]:
    """The positions of the records the judge accepted (``Stage.accepted``'s rows)."""
    query = exp.select(exp.column("__row")).from_(table_ref("final")).where(
        exp.column("__status").eq(lit("new")))
    return {int(r[0]) for r in stage.con.sql(render(query)).fetchall()}


class EventScoring:
    """The event scorers of the models a ``ModelService`` serves, built on first use
    per (model, served version, source): a promoted champion the service reloads gets
    scorers of its own."""

    def __init__(self, definitions: Definitions, online: OnlineStore,
                 service: ModelService) -> None:
        self.definitions = definitions
        self.online = online
        self.service = service
        self._scorers: dict[tuple[str, int, str], EventScorer] = {}

    def scorer(self, model: str, source: str | None = None) -> EventScorer:
        """``model``'s scorer of ``source``'s events (None: the one source of its
        features other than its labels source). UnknownNameError for a model not
        served; InputError for a source it cannot score."""
        loaded = self.service.get(model).model
        chosen = self._source(model, source)
        key = (model, loaded.version, chosen.name)
        scorer = self._scorers.get(key)
        if scorer is None:
            scorer = EventScorer(self.definitions, self.online, loaded, chosen)
            if self.service.log is not None:
                scorer.scorer.log = self.service.log.writer(model, scorer.scorer.key_types)
            for old in [k for k in self._scorers if k[0] == model]:
                self._scorers.pop(old).close()  # a version no longer served
            self._scorers[key] = scorer
        return scorer

    def _source(self, model: str, source: str | None) -> Source:
        definitions = self.definitions
        if source is not None:
            return definitions.source(source)
        try:
            label = definitions.model(model).label_source
        except UnknownNameError:  # a model served from outside the definitions
            label = None
        loaded = self.service.get(model).model
        views = resolve_features(definitions, [
            f for f in loaded.features if not f.startswith(REQUEST)])
        names = sorted({r.view.source.name for r in views} - {label})
        if len(names) != 1:
            raise InputError(f"events scored by model '{model}'", "need their source "
                             "named", got=names, fix="send \"source\": one of "
                             f"{names or [s.name for s in definitions.sources]}")
        return definitions.source(names[0])

    def close(self) -> None:
        for scorer in self._scorers.values():
            scorer.close()
        self._scorers.clear()
