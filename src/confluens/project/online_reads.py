"""Reading features online in a project: one view's entities, or one feature vector
across views in one store round trip, with windows evaluated at the read's time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from confluens.core import DType, FeatureView
from confluens.errors import InputError
from confluens.project.instants import require_zone
from confluens.project.online_state import (
    FeatureRows,
    FeatureVector,
    read_online,
    read_online_views,
)
from confluens.project.registration import Registration
from confluens.project.store_factory import ProjectStores
from confluens.project.training import resolve_features

__all__ = ["OnlineReads", "key_values"]


class OnlineReads:
    """Feature values read from a project's online store."""

    def __init__(self, registration: Registration, stores: ProjectStores) -> None:
        self.registration = registration
        self.stores = stores

    def online_features(self, view: str, keys: Sequence[Any], *,
                        at: datetime | None = None) -> FeatureRows:
        """Feature values for entity ``keys``, with windows evaluated at ``at`` (now).

        A key is a value (entities with one key column) or a mapping of key columns.
        The result is a list of dicts, one per key; its ``missing`` lists the keys that
        have no online state (see online_state.FeatureRows).
        """
        definition = self.registration.definitions.feature_view(view)
        when = _when(at)
        rows = read_online(definition, self.stores.online,
                           [key_values(definition, k) for k in keys], when)
        return FeatureRows(rows, rows.found, keys)

    def online_vector(self, keys: Mapping[str, Any], *,
                      at: datetime | None = None, full_names: bool = False) -> FeatureVector:
        """One feature vector across views, in one store round trip: ``keys`` maps each
        view to its entity's key, e.g. ``{"customer_spending": "C1", "terminal_risk":
        "T7"}``. Feature names must not repeat across the views. The result's
        ``missing`` lists the views (as requested) whose entity has no online state.

        As in training sets, ``"view[label]"`` reads one view under another name (its
        features named ``label__feature``), e.g. ``{"location[origin_id]": 5,
        "location[destination_id]": 9}``; ``full_names`` names them ``view__feature``.
        """
        when = _when(at)
        if any("[" in request for request in keys) or full_names:
            return self._mapped_vector(keys, when, full_names=full_names)
        views = [self.registration.definitions.feature_view(name) for name in keys]
        found = read_online_views([(v, [key_values(v, keys[v.name])]) for v in views],
                                  self.stores.online, when)
        vector: dict[str, Any] = {}
        given_by: dict[str, str] = {}
        for view, (values,) in zip(views, found, strict=True):
            for name, value in values.items():
                if name in vector:
                    raise InputError("online_vector", f"two views give a feature named "
                                     f"'{name}'", got=[given_by[name], view.name],
                                     fix="read them with online_features, or rename one")
                vector[name], given_by[name] = value, view.name
        return FeatureVector(vector, [v.name for v, rows in zip(views, found, strict=True)
                                      if rows.missing])

    def _mapped_vector(self, keys: Mapping[str, Any], when: datetime, *,
                       full_names: bool) -> FeatureVector:
        """``online_vector`` with key mapping or full names (project/training.py names)."""
        refs = resolve_features(self.registration.definitions, list(keys),
                                full_names=full_names)
        if len(refs) != len(keys):
            raise InputError("online_vector", "each request must name a view once",
                             got=list(keys), fix="drop the repeated request")
        found = read_online_views([(ref.view, [key_values(ref.view, value)])
                                   for ref, value in zip(refs, keys.values(), strict=True)],
                                  self.stores.online, when)
        vector = {ref.output(name): value for ref, (values,) in zip(refs, found, strict=True)
                  for name, value in values.items() if name in ref.names}
        return FeatureVector(vector, [request for request, rows in zip(keys, found, strict=True)
                                      if rows.missing])


def _when(at: datetime | None) -> datetime:
    """The instant a read evaluates its windows at: ``at`` (zoned), or now."""
    return datetime.now(UTC) if at is None else require_zone(at, "at")


def key_values(view: FeatureView, key: Any) -> list[Any]:
    """A user's entity key as the stored values, in the entity's key order."""
    names = view.entity.keys
    if not names:  # a view without an entity: one state, whatever key is passed
        return []
    if isinstance(key, Mapping):
        if set(key) != set(names):
            unknown = [n for n in key if n not in names]
            raise InputError(f"key for entity '{view.entity.name}'",
                             f"must give exactly its key columns {list(names)}",
                             got=dict(key) if key else "no key",
                             fix="write " + ",".join(f"{n}=VALUE" for n in names) + (
                                 f" ({', '.join(map(repr, unknown))}: not a key column)"
                                 if unknown else ""))
        values = [key[n] for n in names]
    elif len(names) == 1:
        values = [key]
    else:
        raise InputError(f"key for entity '{view.entity.name}'", "needs one value per key "
                         "column", got=key, fix=f"pass a mapping of {list(names)}")
    out = []
    for name, value in zip(names, values, strict=True):
        dtype = view.source.schema[name].dtype
        try:
            out.append(int(value) if dtype is DType.INT64 else str(value))
        except (TypeError, ValueError):
            raise InputError(f"key column '{name}'", f"must be a {dtype.value}", got=value,
                             fix=f"pass a {dtype.value} value") from None
    return out
