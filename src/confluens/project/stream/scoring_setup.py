"""Which models score which stream: ``ScoringSpec``, and the scorers a run builds.

``stream_scorers`` loads each spec's model, finds the source it scores, opens its
alerts log, and runs the prediction log around the whole stream run (scoring.py says
what one scorer does with a batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from confluens.connectors.streams import EmbeddedLog, StreamLog
from confluens.core import Definitions, Source
from confluens.errors import InputError
from confluens.lifecycle.trained import LoadedModel
from confluens.project.config import ProjectConfig
from confluens.project.stream.logs import embedded_log_path
from confluens.project.stream.scoring import StreamScorer

__all__ = ["ModelLoader", "ScoringSpec", "stream_scorers"]

ModelLoader = Callable[[str, str], LoadedModel]  # (name, alias) -> the loaded model


@dataclass(frozen=True)
class ScoringSpec:
    """Score a stream with a model: ``model`` at registry ``alias``, on ``source``'s
    events (None: the one streamed source other than the model's labels source);
    scores at or above ``threshold`` are appended as alerts to the embedded log topic
    ``alerts`` (when both are given)."""

    model: str
    alias: str = "champion"
    source: str | None = None
    threshold: float | None = None
    alerts: str | None = None


@contextmanager
def stream_scorers(definitions: Definitions, config: ProjectConfig,
                   chosen: Sequence[Source], scoring: Sequence[ScoringSpec],
                   models: ModelLoader | None) -> Iterator[dict[str, list[StreamScorer]]]:
    """The scorers of each source, with the prediction log running around them."""
    if not scoring:
        yield {}
        return
    if models is None:
        raise InputError("scoring", "needs a way to load models", got=None,
                         fix="pass models=lambda name, alias: registry.load(name, alias)")
    from confluens.lifecycle.serve import PredictionLog
    from confluens.project.serving import prediction_store

    out: dict[str, list[StreamScorer]] = {}
    alert_logs: list[StreamLog] = []
    with PredictionLog(prediction_store(config.store_root)) as log:
        try:
            for spec in scoring:
                model = models(spec.model, spec.alias)
                source = _scored_source(definitions, spec, chosen)
                alerts = None
                if spec.alerts is not None:
                    alerts = EmbeddedLog(embedded_log_path(config, spec.alerts), spec.alerts)
                    alert_logs.append(alerts)
                scorer = StreamScorer(definitions, model, source, alerts=alerts,
                                      threshold=spec.threshold)
                scorer.log = log.writer(model.name, scorer.key_types)
                out.setdefault(source.name, []).append(scorer)
            yield out
        finally:
            for alert_log in alert_logs:
                alert_log.close()


def _scored_source(definitions: Definitions, spec: ScoringSpec,
                   chosen: Sequence[Source]) -> Source:
    names = [s.name for s in chosen]
    if spec.source is not None:
        if spec.source not in names:
            raise InputError("--score-source", "must be one of the sources streamed",
                             got=spec.source, fix=f"use one of {names}")
        return next(s for s in chosen if s.name == spec.source)
    label = definitions.model(spec.model).label_source
    candidates = [s for s in chosen if s.name != label]
    if len(candidates) != 1:
        raise InputError(f"scoring with model '{spec.model}'", "needs the source to "
                         "score named", got=[s.name for s in candidates],
                         fix="pass --score-source SOURCE")
    return candidates[0]
