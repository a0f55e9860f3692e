"""Point-in-time training sets in a project: spines from stored records, and every
requested feature as of each spine row (see training.py and spine.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from confluens.project.registration import Registration
from confluens.project.spine import build_spine
from confluens.project.store_factory import ProjectStores
from confluens.project.training import resolve_features, training_set

__all__ = ["TrainingSetService"]


class TrainingSetService:
    """Spines and training sets over a project's offline store."""

    def __init__(self, registration: Registration, stores: ProjectStores) -> None:
        self.registration = registration
        self.stores = stores
        self.config = stores.config

    def training_set(self, spine: Any, features: Sequence[str], *, at: str | None = None,
                     timezone: str | None = None, as_of: datetime | None = None,
                     full_names: bool = False) -> pa.Table:
        """``spine`` with every requested feature as of each row's timestamp.

        ``features`` are ``"view:feature"`` names, or ``"view"`` for all of a view's.
        ``at`` names the spine's timestamp column (needed if it has several);
        ``timezone`` reads a spine without zones; ``as_of`` ignores every record
        ingested after that instant. ``view[col]:feature`` reads the view's key from
        spine column ``col`` (features named ``col__feature``); ``full_names`` names
        every feature ``view__feature``. See project/training.py.
        """
        refs = resolve_features(self.registration.definitions, features,
                                full_names=full_names)
        for ref in refs:
            self.registration.applied_version(ref.view.source)
        if isinstance(spine, str | Path):
            spine = self.config.path(spine)
        return training_set(refs, self.stores.offline.files, spine, at=at, timezone=timezone,
                            as_of=as_of)

    def spine(self, source: str, *, last: str | None = None, start: datetime | None = None,
              end: datetime | None = None, where: str | None = None,
              columns: Sequence[str] | None = None) -> pa.Table:
        """Stored records of ``source`` as a spine for ``training_set``: the ``last``
        span of the data (e.g. ``"7d"``, ending at the latest event) or event times in
        ``[start, end)``, filtered by ``where``. See project/spine.py."""
        src = self.registration.definitions.source(source)
        return build_spine(src, self.stores.offline.files(source), last=last, start=start,
                           end=end, where=where, columns=columns)
