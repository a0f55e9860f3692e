"""The models a server scores with: each loaded once, with its scorer and batcher.

``ModelService(names, models, readers, log=...)`` loads every name with ``models``
(the registry's loader, e.g. ``lambda name: registry.load(name, "champion")``) when
it starts. A model that fails to load is reported, not served: the service is then
not ready (the OIP ``/v2/health/ready``), and its own error says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluens.errors import ConfluensError, InputError, UnknownNameError
from confluens.lifecycle.serve.batching import MicroBatcher
from confluens.lifecycle.serve.log import PredictionLog
from confluens.lifecycle.serve.reader import ReaderFactory
from confluens.lifecycle.serve.request import Scored, ScoreRequest
from confluens.lifecycle.serve.scorer import Scorer
from confluens.lifecycle.trained import LoadedModel

__all__ = ["ModelProvider", "ModelService", "Served"]

ModelProvider = Callable[[str], LoadedModel]
"""Loads the model to serve under a name (e.g. the registry's champion)."""

_log = logging.getLogger("confluens.serve")


@dataclass
class Served:
    """A model being served: the model, its scorer and its batcher."""

    model: LoadedModel
    scorer: Scorer
    batcher: MicroBatcher[ScoreRequest, Scored]


class ModelService:
    """Serves ``names``, loaded with ``models``; features read by ``readers``' readers;
    predictions logged to ``log`` (None: not logged)."""

    def __init__(self, names: Sequence[str], models: ModelProvider, readers: ReaderFactory,
                 *, log: PredictionLog | None = None, max_batch: int = 64,
                 max_wait: float = 0.001) -> None:
        if not names:
            raise InputError("models to serve", "at least one is needed", got=[],
                             fix="name one, e.g. --model fraud_detector")
        self.names = list(dict.fromkeys(names))
        self.models = models
        self.readers = readers
        self.log = log
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.served: dict[str, Served] = {}
        self.failed: dict[str, str] = {}  # name -> why it could not be loaded

    def load(self) -> None:
        """Load every model (again); those that fail are listed in ``failed``."""
        self.served, self.failed = {}, {}
        for name in self.names:
            try:
                model = self.models(name)
                scorer = Scorer(model, self.readers)
            except ConfluensError as exc:
                self.failed[name] = str(exc)
                _log.error("model %r is not served: %s", name, exc)
                continue
            except Exception as exc:  # the provider's own failure (a registry down...)
                self.failed[name] = f"{type(exc).__name__}: {exc}"
                _log.exception("model %r is not served", name)
                continue
            if self.log is not None:
                scorer.log = self.log.writer(name, scorer.keys)
            batcher = MicroBatcher(scorer.score_many, max_batch=self.max_batch,
                                   max_wait=self.max_wait)
            self.served[name] = Served(model, scorer, batcher)

    @property
    def ready(self) -> bool:
        return not self.failed and len(self.served) == len(self.names)

    def get(self, name: str) -> Served:
        """The served model ``name``; UnknownNameError (naming those served) if none."""
        served = self.served.get(name)
        if served is None:
            why = self.failed.get(name)
            raise UnknownNameError(f"model '{name}'", "is not served here" + (
                f" (it failed to load: {why})" if why else ""), got=name,
                fix=f"use one of {sorted(self.served)}" if self.served
                else "start the server with --model NAME")
        return served

    async def start(self) -> None:
        if not self.served and not self.failed:
            self.load()
        if self.log is not None:
            self.log.start()
        for served in self.served.values():
            await served.batcher.start()

    async def stop(self) -> None:
        """Score what is queued, then write every logged prediction."""
        for served in self.served.values():
            await served.batcher.stop()
        if self.log is not None:
            self.log.stop()
