"""``materialize`` in a project: each view's feature table and online state brought up
to date, one view at a time (see materialize.py for what one view's run does)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from confluens.project.materialize import Materialized, SourceData, materialize_view
from confluens.project.registration import Registration
from confluens.project.store_factory import ProjectStores

__all__ = ["MaterializeService"]


class MaterializeService:
    """Materializes a project's views into its feature tables and online store."""

    def __init__(self, registration: Registration, stores: ProjectStores) -> None:
        self.registration = registration
        self.stores = stores

    def materialize(self, views: Sequence[str] = (), *,
                    start: datetime | None = None, end: datetime | None = None,
                    progress: Callable[[Materialized], None] | None = None,
                    stage: Callable[[str, str], None] | None = None,
                    ) -> list[Materialized]:
        """Bring each view's per-event feature table and online state up to date.

        Without ``views``, every view. A view whose definition and source data have not
        changed since its last materialize is skipped; after new ingests only the rows
        and entities they can change are recomputed. With ``start``/``end`` (UTC-aware),
        the feature-table rows with event times in ``[start, end)`` are rebuilt.
        ``progress`` gets each view's result; ``stage(view, stage)`` each stage begun.
        """
        definitions = self.registration.definitions
        chosen = ([definitions.feature_view(v) for v in views] if views
                  else list(definitions.feature_views))
        config = self.stores.config
        done = []
        for view in chosen:
            self.registration.applied_version(view.source)
            result = materialize_view(
                view, SourceData(self.stores.offline, view.source.name),
                self.stores.feature_tables, self.stores.online,
                ttl_seconds=config.online_ttl_seconds,
                marker_dir=config.store_root / "materialized",
                run_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f"), start=start, end=end,
                progress=None if stage is None else functools.partial(stage, view.name))
            done.append(result)
            if progress is not None:
                progress(result)
        return done
