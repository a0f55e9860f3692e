"""Features computed on demand from a project's stored records."""

from __future__ import annotations

import pyarrow as pa

from confluens.errors import InputError
from confluens.plan import event_features, plan_view
from confluens.project.registration import Registration
from confluens.project.store_factory import ProjectStores

__all__ = ["FeatureService"]


class FeatureService:
    """A view's features at every stored event of its source."""

    def __init__(self, registration: Registration, stores: ProjectStores) -> None:
        self.registration = registration
        self.stores = stores

    def event_features(self, view: str) -> pa.Table:
        """Every feature of ``view`` at every stored event of its source (computed now).

        Rows: the entity keys, the event time, ``__tie`` (the id, or the content hash
        where the source has none) and one column per feature.
        """
        definition = self.registration.definitions.feature_view(view)
        source = definition.source
        self.registration.applied_version(source)
        files = self.stores.offline.files(source.name)
        if not files:
            raise InputError(f"feature view '{view}'", f"source '{source.name}' holds no "
                             "records yet", fix=f"run `confluens ingest {source.name}` first")
        return event_features(plan_view(definition), files)
