"""The models a server scores with: each loaded once, with its scorer and batcher.

``ModelService(names, models, readers, log=...)`` loads every name with ``models``
(the registry's loader, e.g. ``lambda name: registry.load(name, "champion")``) when
it starts. A model that fails to load is reported, not served: the service is then
not ready (the OIP ``/v2/health/ready``), and its own error says why.

Hot reload: given ``watch`` (``(name) -> the version its alias points at now``, e.g.
from the registry's alias history) and ``reload_seconds``, the running service asks
every ``reload_seconds`` and, when a name's answer differs from the version served,
loads the model again off the event loop (a thread) and swaps it in at once: requests
already queued finish on the old model (its batcher is drained, then stopped), later
ones go to the new. A load that fails keeps the old model serving; the failure is
logged and listed in ``reload_failed`` (name -> why) until a load succeeds, and that
version is not tried again until the alias moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluens.errors import ConfluensError, InputError, UnknownNameError
from confluens.lifecycle.serve.batching import MicroBatcher
from confluens.lifecycle.serve.collection import PacedCollection
from confluens.lifecycle.serve.log import PredictionLog
from confluens.lifecycle.serve.reader import ReaderFactory
from confluens.lifecycle.serve.request import Scored, ScoreRequest
from confluens.lifecycle.serve.scorer import Scorer
from confluens.lifecycle.trained import LoadedModel

__all__ = ["ModelProvider", "ModelService", "Served", "VersionWatch"]

ModelProvider = Callable[[str], LoadedModel]
"""Loads the model to serve under a name (e.g. the registry's champion)."""

VersionWatch = Callable[[str], int | None]
"""The version a name's alias points at now (None: not known, nothing to do)."""

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
                 max_wait: float = 0.001, watch: VersionWatch | None = None,
                 reload_seconds: float = 0.0, paced_collection: bool = True) -> None:
        if not names:
            raise InputError("models to serve", "at least one is needed", got=[],
                             fix="name one, e.g. --model fraud_detector")
        self.names = list(dict.fromkeys(names))
        self.models = models
        self.readers = readers
        self.log = log
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.watch = watch
        self.reload_seconds = reload_seconds
        self.served: dict[str, Served] = {}
        self.failed: dict[str, str] = {}  # name -> why it could not be loaded
        self.reload_failed: dict[str, str] = {}  # name -> why its new version did not load
        self._tried: dict[str, int] = {}  # name -> the last version a reload tried
        self._watcher: asyncio.Task[None] | None = None
        # the garbage collector run between batches, not inside requests (collection.py)
        self.collection = PacedCollection() if paced_collection else None
        self._ticker: asyncio.Task[None] | None = None

    def load(self) -> None:
        """Load every model (again); those that fail are listed in ``failed``."""
        self.served, self.failed = {}, {}
        for name in self.names:
            try:
                self.served[name] = self._served(name)
            except ConfluensError as exc:
                self.failed[name] = str(exc)
                _log.error("model %r is not served: %s", name, exc)
            except Exception as exc:  # the provider's own failure (a registry down...)
                self.failed[name] = f"{type(exc).__name__}: {exc}"
                _log.exception("model %r is not served", name)

    def _served(self, name: str) -> Served:
        """``name`` loaded, with its scorer and (not yet started) batcher."""
        model = self.models(name)
        scorer = Scorer(model, self.readers)
        if self.log is not None:
            scorer.log = self.log.writer(name, scorer.keys)
        batcher = MicroBatcher(scorer.score_many, max_batch=self.max_batch,
                               max_wait=self.max_wait, after_batch=(
                                   None if self.collection is None
                                   else self.collection.run_due))
        return Served(model, scorer, batcher)

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
        if self.watch is not None and self.reload_seconds > 0 and self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch_loop())
        if self.collection is not None and self._ticker is None:
            self.collection.start()
            self._ticker = asyncio.get_running_loop().create_task(self._collection_ticks())

    async def stop(self) -> None:
        """Score what is queued, then write every logged prediction."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        for served in self.served.values():
            await served.batcher.stop()
        if self.log is not None:
            self.log.stop()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self.collection is not None:
            self.collection.stop()

    async def _collection_ticks(self) -> None:
        """Collections fall due also when no batch comes (other routes, a quiet server)."""
        assert self.collection is not None
        while True:
            await asyncio.sleep(1.0)
            self.collection.run_due()

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(self.reload_seconds)
            await self.reload()

    async def reload(self) -> list[str]:
        """Ask ``watch`` where each name's alias points and swap in the models whose
        version changed (see the module docstring); the names reloaded."""
        assert self.watch is not None
        reloaded = []
        for name in self.names:
            try:
                wanted = await asyncio.to_thread(self.watch, name)
            except Exception:  # the registry unreachable: ask again next time
                _log.exception("model %r: cannot read where its alias points", name)
                continue
            current = self.served.get(name)
            if wanted is None:
                continue
            if current is not None and current.model.version == wanted:  # e.g. moved back
                self._tried.pop(name, None)
                self.reload_failed.pop(name, None)
                continue
            if self._tried.get(name) == wanted:
                continue
            self._tried[name] = wanted
            try:
                fresh = await asyncio.to_thread(self._served, name)
            except Exception as exc:
                why = str(exc) if isinstance(exc, ConfluensError) \
                    else f"{type(exc).__name__}: {exc}"
                self.reload_failed[name] = f"version {wanted}: {why}"
                _log.error("model %r: version %s did not load, version %s still serves: %s",
                           name, wanted, current.model.version if current else "none", why)
                continue
            await fresh.batcher.start()
            self.served[name] = fresh  # later requests go to the new model
            self.failed.pop(name, None)
            self.reload_failed.pop(name, None)
            reloaded.append(name)
            _log.warning("model %r: now serving version %s (was %s)", name,
                         fresh.model.version, current.model.version if current else "none")
            if current is not None:
                await current.batcher.stop()  # the old model's queued requests finish
        return reloaded
