"""All of a project's definitions, checked to fit together.

>>> from confluens.core.entity import Entity
>>> defs = Definitions(entities=[Entity("customer", keys=["customer_id"])])
>>> defs.names()
['entity:customer']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

from confluens.core.entity import Entity
from confluens.core.feature_view import FeatureView
from confluens.core.model import Model
from confluens.core.source import Source
from confluens.errors import DefinitionsError, UnknownNameError

__all__ = ["Definitions"]

Definition: TypeAlias = Entity | Source | FeatureView | Model


@dataclass(frozen=True, slots=True)
class Definitions:
    """The registry of a project: every entity, source, feature view and model, by
    unique name."""

    entities: tuple[Entity, ...] = ()
    sources: tuple[Source, ...] = ()
    feature_views: tuple[FeatureView, ...] = ()
    models: tuple[Model, ...] = ()

    def __init__(self, entities: Iterable[Entity] = (), sources: Iterable[Source] = (),
                 feature_views: Iterable[FeatureView] = (), models: Iterable[Model] = ()
                 ) -> None:
        object.__setattr__(self, "entities", tuple(entities))
        object.__setattr__(self, "sources", tuple(sources))
        object.__setattr__(self, "feature_views", tuple(feature_views))
        object.__setattr__(self, "models", tuple(models))
        kinds: tuple[tuple[str, tuple[Any, ...], type[Any]], ...] = (
            ("entity", self.entities, Entity), ("source", self.sources, Source),
            ("feature view", self.feature_views, FeatureView), ("model", self.models, Model))
        for kind, items, cls in kinds:
            seen: set[str] = set()
            for item in items:
                if not isinstance(item, cls):
                    raise DefinitionsError("Definitions", f"{kind} entries must be {cls.__name__}",
                                           got=item, fix=f"pass {cls.__name__}(...) values")
                if item.name in seen:
                    raise DefinitionsError("Definitions", f"two {kind} definitions share a name",
                                           got=item.name, fix="rename one of them")
                seen.add(item.name)

        for view in self.feature_views:
            for kind, used, known in (("entity", view.entity, self.entities),
                                      ("source", view.source, self.sources)):
                same_name = [d for d in known if d.name == used.name]
                if same_name and same_name[0] != used:
                    raise DefinitionsError(f"FeatureView '{view.name}'", f"uses a {kind} that "
                                           f"differs from the registered {kind} of that name",
                                           got=used.name, fix=f"pass the registered {kind} "
                                           "object itself")

        for model in self.models:
            self._check_model(model)

    def _check_model(self, model: Model) -> None:
        """A model's label names a stored column of a source, its features known views."""
        owner = f"Model '{model.name}'"
        sources = {s.name: s for s in self.sources}
        source = sources.get(model.label_source)
        if source is None:
            raise DefinitionsError(owner, "label names no source of the project",
                                   got=model.label, fix=f"use one of {sorted(sources)}")
        if model.label_column not in source.schema.names:
            raise DefinitionsError(owner, f"label names no column of source '{source.name}'",
                                   got=model.label_column,
                                   fix=f"use one of {list(source.schema.names)}")
        if model.group is not None and model.group not in source.schema.names:
            raise DefinitionsError(owner, f"group names no column of the label's source "
                                   f"'{source.name}' (the training spine)", got=model.group,
                                   fix=f"use one of {list(source.schema.names)}")
        views = {v.name: v for v in self.feature_views}
        for ref in model.features:
            view = ref.partition(":")[0].partition("[")[0]
            feature = ref.partition(":")[2]
            if view not in views:
                raise DefinitionsError(owner, "a feature names no feature view of the project",
                                       got=ref, fix=f"use one of {sorted(views)}")
            if feature and feature not in views[view].feature_names:
                raise DefinitionsError(owner, f"feature view '{view}' has no such feature",
                                       got=ref, fix=f"use one of {views[view].feature_names}")

    @classmethod
    def collect(cls, objects: Iterable[object]) -> Definitions:
        """Gather the definitions among arbitrary objects (e.g. a module's globals)."""
        objs = list(objects)
        views = [o for o in objs if isinstance(o, FeatureView)]
        entities = [o for o in objs if isinstance(o, Entity)]
        sources = [o for o in objs if isinstance(o, Source)]
        # a view's entity and source belong to the project even if not bound to a name
        entities += [v.entity for v in views if v.entity not in entities]
        sources += [v.source for v in views if v.source not in sources]
        models = [o for o in objs if isinstance(o, Model)]
        return cls(entities=_unique(entities), sources=_unique(sources), feature_views=views,
                   models=models)

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise UnknownNameError("source", "no source has this name", got=name,
                               fix="use one of " + repr([s.name for s in self.sources]))

    def entity(self, name: str) -> Entity:
        for e in self.entities:
            if e.name == name:
                return e
        raise UnknownNameError("entity", "no entity has this name", got=name,
                               fix="use one of " + repr([e.name for e in self.entities]))

    def feature_view(self, name: str) -> FeatureView:
        for v in self.feature_views:
            if v.name == name:
                return v
        raise UnknownNameError("feature view", "no feature view has this name", got=name,
                               fix="use one of " + repr([v.name for v in self.feature_views]))

    def model(self, name: str) -> Model:
        for m in self.models:
            if m.name == name:
                return m
        raise UnknownNameError("model", "no model has this name", got=name,
                               fix="use one of " + repr([m.name for m in self.models]))

    def items(self) -> list[tuple[str, Definition]]:
        """``(key, definition)`` pairs, keys like ``source:transactions``, sorted."""
        pairs: list[tuple[str, Definition]] = [(f"entity:{e.name}", e) for e in self.entities]
        pairs += [(f"source:{s.name}", s) for s in self.sources]
        pairs += [(f"feature_view:{v.name}", v) for v in self.feature_views]
        pairs += [(f"model:{m.name}", m) for m in self.models]
        return sorted(pairs, key=lambda p: p[0])

    def names(self) -> list[str]:
        return [key for key, _ in self.items()]

    def specs(self) -> dict[str, dict[str, Any]]:
        return {key: d.spec() for key, d in self.items()}


def _unique(items: list[Any]) -> list[Any]:
    """Items in order, each once (by equality)."""
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
