"""Scoring a stream: each accepted event scored by a model as it arrives.

``confluens stream --score MODEL`` attaches a :class:`StreamScorer` to the processor of
the source whose events the model scores. For each batch, once the events are merged
into the window state and before the state is pruned and committed, every accepted
event gets the model's features as of its own time, the same features the HTTP path
and training sets use:

- features of views over the scored source come from the processor's state, the
  batch's own events merged in (``ViewState.feature_columns``): an event sees itself and
  every earlier one, as a training-set row at its time does;
- features of other views (e.g. a terminal's fraud rate, from the labels) are read
  from the online store at the event's time.

Both come as columns (feature -> its values over the batch, and whether each event
is answered), never a dict per event. One ``predict`` call scores the whole batch,
from one float matrix (the model's ``predict_array`` when it has one). Each
prediction is logged to the prediction log (``origin`` "stream", the event's fields
kept), with an id derived from the model
version and the event's id, so a batch scored again after a crash logs the same ids.
A batch is logged column by column (``log_columns``: the inputs and requests encoded
as JSON a column at a time, lifecycle/serve/json_columns.py), the same table the rows
of an HTTP request make, with no object per prediction; ``Predicted.scored`` makes
the per-prediction values only for a caller that wants them (``EventScorer``).
An event whose features cannot be answered exactly at its time (a late event
older than what the state still holds) is counted and not scored. With an alert
threshold, every score at or above it is appended to an alerts log as a JSON object:
at least once (again after a crash), each alert carrying the prediction id.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from confluens.connectors.streams import StreamLog
from confluens.core import Definitions, DType, FeatureView, Source
from confluens.errors import DefinitionError, InputError
from confluens.lifecycle.serve import LogWriter, ModelInputs, Scored
from confluens.lifecycle.serve.json_columns import (
    iso_utc,
    json_objects,
    json_pattern,
    json_rows,
    json_texts,
)
from confluens.lifecycle.serve.log_table import LogColumns
from confluens.lifecycle.trained import LoadedModel, array_predict
from confluens.project.online_state import read_online_at_columns
from confluens.project.training import resolve_features
from confluens.stores.online import OnlineStore
from confluens.streaming import ViewState
from confluens.streaming.entity_state import entity_keys

__all__ = ["Predicted", "ScoredBatch", "StreamScorer"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_IDS = uuid.UUID("6f1c3f4e-2b8e-4e4b-9a53-7d1f0c6a2e11")  # the namespace of prediction ids
_IDS_BYTES = _IDS.bytes
_UTC_US = pa.timestamp("us", tz="UTC")
_NO_SCORES = np.empty(0, dtype=np.float64)


@dataclass(frozen=True)
class ScoredBatch:
    scored: int
    unscorable: int  # late events whose features cannot be answered exactly
    alerts: int


@dataclass(frozen=True)
class Predicted:
    """A batch's predictions, column by column: every event (``events``, and its
    values: the source's columns, one list each), the rows that could be scored, and
    for those, in the order of ``rows``: their prediction ids, scores, times (µs) and
    the model's inputs (input column -> values)."""

    events: pa.Table
    columns: dict[str, list[Any]]
    rows: list[int]
    ids: list[str]
    scores: np.ndarray
    at_us: list[int]
    inputs: dict[str, list[Any]]
    model: str
    version: int

    @cached_property
    def records(self) -> list[dict[str, Any]]:
        """Every event as a dict (column -> value)."""
        names = list(self.columns)
        return [dict(zip(names, row, strict=True))
                for row in zip(*self.columns.values(), strict=True)]

    @cached_property
    def scored(self) -> list[Scored]:
        """Each scored row's prediction (in the order of ``rows``)."""
        names = list(self.inputs)
        inputs = (zip(*self.inputs.values(), strict=True) if names
                  else [()] * len(self.rows))
        return [Scored(ident, score, self.model, self.version,
                       _EPOCH + timedelta(microseconds=us), dict(zip(names, row, strict=True)),
                       ()) for ident, score, us, row in zip(
                           self.ids, self.scores.tolist(), self.at_us, inputs, strict=True)]

    def record(self, i: int) -> dict[str, Any]:
        """Event ``i`` as a dict (column -> value)."""
        return {name: values[i] for name, values in self.columns.items()}

    def with_ids(self, ids: Sequence[str]) -> Predicted:
        """The same predictions under other ids."""
        return replace(self, ids=list(ids))


@dataclass(frozen=True)
class _Group:
    view: FeatureView
    columns: tuple[str, ...]  # the event's columns holding the view's entity keys


class StreamScorer:
    """Scores ``source``'s accepted events with ``model`` (see the module docstring)."""

    def __init__(self, definitions: Definitions, model: LoadedModel, source: Source, *,
                 log: LogWriter | None = None, alerts: StreamLog | None = None,
                 threshold: float | None = None) -> None:
        self.model = model
        self.source = source
        self.inputs = ModelInputs(model.features, model.columns, model=model.name)
        self.log = log
        self.alerts = alerts
        self.threshold = threshold
        self._groups: list[_Group] = []
        self._refs: list[tuple[int, str]] = []  # per online input: (group, feature)
        index: dict[tuple[str, tuple[str, ...]], int] = {}
        for item in self.inputs.online:
            (ref,) = resolve_features(definitions, [item])
            if len(ref.names) != 1:
                raise DefinitionError(f"model input '{item}'", "names one feature",
                                      got=ref.names, fix="write 'view:feature' for each")
            columns = tuple(ref.spine_column(k) for k in ref.view.entity.keys)
            absent = [c for c in columns if c not in source.schema]
            if absent:
                raise InputError(f"model '{model.name}' on source '{source.name}'",
                                 f"its input '{item}' is keyed by columns the source's "
                                 "events lack", got=absent,
                                 fix="score the source whose records carry the model's "
                                 "entity keys (--score-source)")
            group = index.setdefault((ref.view.name, columns), len(self._groups))
            if group == len(self._groups):
                self._groups.append(_Group(ref.view, columns))
            self._refs.append((group, ref.names[0]))
        missing = [f for f in self.inputs.required if f not in source.schema]
        if missing:
            raise InputError(f"model '{model.name}' on source '{source.name}'", "its "
                             "request fields must be columns of the events", got=missing,
                             fix="score a source that has them")
        self.key_columns = list(dict.fromkeys(c for g in self._groups for c in g.columns))
        self._index = pd.Index(self.inputs.columns, dtype=object)  # as ModelInputs builds it
        self._predict_array = array_predict(model)

    @property
    def state_views(self) -> list[FeatureView]:
        """The views whose features come from the window state (the scored source's
        views, keyed by the event's own entity columns); the others are read online."""
        views = {g.view.name: g.view for g in self._groups
                 if g.view.source.name == self.source.name
                 and g.columns == g.view.entity.keys}
        return list(views.values())

    @property
    def key_types(self) -> dict[str, str]:
        """The key columns the prediction log keeps, each ``int64`` or ``string`` (as
        the source's column)."""
        return {c: "int64" if self.source.schema[c].dtype is DType.INT64 else "string"
                for c in self.key_columns}

    def score(self, events: pa.Table, states: Mapping[str, ViewState],
              online: OnlineStore) -> ScoredBatch:
        """Score ``events`` (accepted, merged into ``states``, not yet pruned)."""
        predicted = self.predict(events, states, online)
        if not predicted.rows:
            return ScoredBatch(0, events.num_rows, 0)
        self.log_predictions(predicted, "stream")
        alerts = 0
        if self.alerts is not None and self.threshold is not None:
            raised = np.flatnonzero(predicted.scores >= self.threshold).tolist()
            if raised:
                alerts = self.alerts.append([(None, _alert(predicted, j, self.source))
                                             for j in raised])
        return ScoredBatch(len(predicted.rows), events.num_rows - len(predicted.rows),
                           alerts)

    def predict(self, events: pa.Table, states: Mapping[str, ViewState],
                online: OnlineStore) -> Predicted:
        """The predictions of ``events`` (merged into ``states``) that can be answered
        exactly, in one ``predict`` call; nothing is logged."""
        names = [f.name for f in self.source.schema]
        name, version = self.model.name, self.model.version
        if events.num_rows == 0:
            return Predicted(events, {n: [] for n in names}, [], [], _NO_SCORES, [], {},
                             name, version)
        times = _micros(events.column(self.source.event_time))
        values = [self._group_values(g, events, times, states, online) for g in self._groups]
        n = events.num_rows
        if all(all(answered) for _, answered in values):
            ok: list[int] = list(range(n))
        else:
            ok = [i for i in range(n) if all(answered[i] for _, answered in values)]
        columns = {name: _values(events.column(name)) for name in names}
        if not ok:
            return Predicted(events, columns, [], [], _NO_SCORES, [], {}, name, version)
        inputs = self._inputs(columns, values, ok)
        scores = np.asarray(self._predict(inputs, len(ok)), dtype=np.float64)
        if scores.shape != (len(ok),):
            raise InputError(f"model '{name}'", "must give one score per row scored",
                             got=f"{scores.shape} for {len(ok)} rows",
                             fix="return a one-dimensional array from predict")
        if self.source.id:
            id_column = columns[self.source.id]
            idents = id_column if len(ok) == n else [id_column[i] for i in ok]
        else:
            records = Predicted(events, columns, [], [], _NO_SCORES, [], {}, name,
                                version).records
            idents = [records[i] for i in ok]
        prefix = f"{name}:{version}:{self.source.name}:"
        at_us = times if len(ok) == n else [times[i] for i in ok]
        return Predicted(events, columns, ok, prediction_ids(prefix, idents), scores,
                         at_us, dict(zip(self.inputs.columns, inputs, strict=True)),
                         name, version)

    def _inputs(self, columns: Mapping[str, list[Any]],
                values: list[tuple[dict[str, list[Any]], list[bool]]],
                ok: list[int]) -> list[list[Any]]:
        """The model's input values of each scored row, one list per input column
        (``ModelInputs.rows``: a request field of the column's name, else the column's
        request field or online feature), picked from the events' ``columns`` and each
        group's feature columns (``values``)."""
        every = len(ok) == len(next(iter(columns.values())))
        pick = itemgetter(*ok) if len(ok) > 1 else None
        out: list[list[Any]] = []
        for column, (kind, source) in zip(self.inputs.columns, self.inputs.sources,
                                          strict=True):
            if column in self.inputs.required or kind == "request":
                field = column if column in self.inputs.required else str(source)
                given = columns[field]
            else:
                group, feature = self._refs[int(source)]
                given = values[group][0][feature]
            if every:
                out.append(list(given))
            else:
                out.append(list(pick(given)) if pick is not None else [given[ok[0]]])
        return out

    def _predict(self, inputs: list[list[Any]], n: int) -> Any:
        """The model's scores of the rows whose input columns are ``inputs``: from one
        float matrix, filled a column at a time (``ModelInputs.matrix``), through the
        model's ``predict_array`` if it has one, else as a frame; a frame of the rows'
        values as they are when a value is not a number (``ModelInputs.frame_of``)."""
        matrix = np.empty((n, len(inputs)), dtype=np.float64)
        try:
            for j, values in enumerate(inputs):
                column = np.array(values, dtype=np.float64)  # None: NaN
                if column.shape != (n,):
                    raise ValueError(column.shape)
                matrix[:, j] = column
        except (TypeError, ValueError):
            rows = ([dict(zip(self.inputs.columns, row, strict=True))
                     for row in zip(*inputs, strict=True)] if inputs else [{}] * n)
            return self.model.predict(self.inputs.frame_of(rows))
        if self._predict_array is not None:
            return self._predict_array(matrix)
        return self.model.predict(pd.DataFrame(matrix, columns=self._index, copy=False))

    def log_predictions(self, predicted: Predicted, origin: str) -> None:
        """Hand ``predicted``'s rows to the prediction log (if any), as from ``origin``."""
        if self.log is None or not predicted.rows:
            return
        self.log(log_columns(predicted, origin, self.key_columns))

    def _group_values(self, group: _Group, events: pa.Table, times: list[int],
                      states: Mapping[str, ViewState], online: OnlineStore,
                      ) -> tuple[dict[str, list[Any]], list[bool]]:
        """The group's view's features of each event, as columns (feature -> values),
        and whether each event is answered exactly."""
        state = states.get(group.view.name)
        if state is not None and group.columns == group.view.entity.keys:
            # the batch's keys, cached
            return state.feature_columns(state.keys_of(events), times)
        return read_online_at_columns(group.view, online, (), times,
                                      texts=entity_keys(events, group.columns))


def prediction_id(name: str) -> str:
    """``str(uuid.uuid5(_IDS, name))``, without making a ``UUID`` (one per event).

    >>> name = "fraud_model:1:transactions:42"
    >>> prediction_id(name) == str(uuid.uuid5(_IDS, name))
    True
    """
    digest = bytearray(hashlib.sha1(_IDS_BYTES + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def prediction_ids(prefix: str, idents: Sequence[Any]) -> list[str]:
    """``[prediction_id(prefix + str(i)) for i in idents]``, the version and variant
    bits set on all digests at once.

    >>> prediction_ids("m:1:tx:", [7, "x"]) == [prediction_id("m:1:tx:7"),
    ...                                         prediction_id("m:1:tx:x")]
    True
    """
    if not idents:
        return []
    head = hashlib.sha1(_IDS_BYTES + prefix.encode())
    digests = []
    for ident in idents:
        sha = head.copy()
        sha.update(str(ident).encode())
        digests.append(sha.digest())
    raw = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50  # version 5
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = raw.tobytes().hex()
    return [f"{h[j:j + 8]}-{h[j + 8:j + 12]}-{h[j + 12:j + 16]}-{h[j + 16:j + 20]}-"
            f"{h[j + 20:j + 32]}" for j in range(0, len(h), 32)]


def _values(column: pa.ChunkedArray) -> list[Any]:
    """``column.to_pylist()``; a UTC timestamp column's datetimes made as ``_EPOCH +
    timedelta`` (equal values, the same ISO text; several times faster than Arrow's).

    >>> column = pa.chunked_array([pa.array([-1, None, 1_500_000_000_123_456], _UTC_US)])
    >>> _values(column) == column.to_pylist()
    True
    >>> [v and v.isoformat() for v in _values(column)] == [
    ...     v and v.isoformat() for v in column.to_pylist()]
    True
    """
    if column.type != _UTC_US:
        return column.to_pylist()  # type: ignore[no-any-return]
    return [None if us is None else _EPOCH + timedelta(microseconds=us)
            for us in column.cast(pa.int64()).to_pylist()]


def _micros(column: pa.ChunkedArray) -> list[int]:
    return column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()  # type: ignore[no-any-return]


def log_columns(predicted: Predicted, origin: str, key_columns: Sequence[str],
                ) -> LogColumns:
    """``predicted``'s prediction-log rows as columns (log_table.py), as from
    ``origin``: the same values and JSON text as ``log_table`` makes of the rows
    ``Scorer`` would log (``keys``: the event's ``key_columns``; ``request``: the
    event's fields, its time as ``at``)."""
    rows = predicted.rows
    every = len(rows) == predicted.events.num_rows
    n = len(rows)

    def pick(values: list[Any]) -> list[Any]:
        return values if every else [values[i] for i in rows]

    events = predicted.events
    # the request {"keys": {...}, "fields": {...}, "at": ...} made in one pass
    request = (f'{{"keys":{json_pattern(key_columns)},'
               f'"fields":{json_pattern(list(predicted.columns))},"at":%s}}')
    texts = [*[json_texts(pick(predicted.columns[c])) for c in key_columns],
             *[_field_texts(events.column(name), pick(values), None if every else rows)
               for name, values in predicted.columns.items()],
             [f'"{t}+00:00"' for t in iso_utc(predicted.at_us, zone="")]]
    features = json_objects(list(predicted.inputs), [
        json_texts(v) for v in predicted.inputs.values()], n)
    picked = events if every else events.take(rows)
    return LogColumns(
        ids=predicted.ids, at_us=np.asarray(predicted.at_us, dtype=np.int64),
        model=predicted.model, version=predicted.version, scores=predicted.scores,
        origin=origin, keys={c: picked.column(c) for c in key_columns},
        features=features, requests=json_rows(request, texts, n))


def _field_texts(column: pa.ChunkedArray, values: list[Any], rows: list[int] | None,
                 ) -> list[str]:
    """The JSON texts of an event column's ``values`` (those of ``rows``, None: all)
    as the log writes them: a datetime as its ISO text (``_jsonable``), a UTC
    timestamp column's made from its integers at once."""
    if column.type == _UTC_US and column.null_count == 0:
        us = column.cast(pa.int64()).to_numpy()
        return [f'"{t}+00:00"' for t in iso_utc(us if rows is None else us[rows], zone="")]
    return json_texts(_jsonable_column(values))


def _jsonable(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in record.items()}


def _jsonable_column(values: list[Any]) -> list[Any]:
    """``_jsonable`` of one column's values."""
    if not any(issubclass(kind, datetime) for kind in set(map(type, values))):
        return values
    return [v.isoformat() if isinstance(v, datetime) else v for v in values]


def _alert(predicted: Predicted, j: int, source: Source) -> bytes:
    """The alert of ``predicted``'s ``j``-th scored row."""
    at = _EPOCH + timedelta(microseconds=predicted.at_us[j])
    return json.dumps({"prediction_id": predicted.ids[j], "model": predicted.model,
                       "version": predicted.version, "score": float(predicted.scores[j]),
                       "source": source.name, "at": at.isoformat(),
                       "record": _jsonable(predicted.record(predicted.rows[j]))},
                      separators=(",", ":"), default=str).encode()
