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
from confluens.core.source import Source
from confluens.errors import DefinitionsError, UnknownNameError

__all__ = ["Definitions"]

Definition: TypeAlias = Entity | Source


@dataclass(frozen=True, slots=True)
class Definitions:
    """The registry of a project: every entity and source, by unique name."""

    entities: tuple[Entity, ...] = ()
    sources: tuple[Source, ...] = ()

    def __init__(self, entities: Iterable[Entity] = (), sources: Iterable[Source] = ()) -> None:
        object.__setattr__(self, "entities", tuple(entities))
        object.__setattr__(self, "sources", tuple(sources))
        for kind, items, cls in (("entity", self.entities, Entity),
                                 ("source", self.sources, Source)):
            seen: set[str] = set()
            for item in items:
                if not isinstance(item, cls):
                    raise DefinitionsError("Definitions", f"{kind} entries must be {cls.__name__}",
                                           got=item, fix=f"pass {cls.__name__}(...) values")
                if item.name in seen:
                    raise DefinitionsError("Definitions", f"two {kind} definitions share a name",
                                           got=item.name, fix="rename one of them")
                seen.add(item.name)

    @classmethod
    def collect(cls, objects: Iterable[object]) -> Definitions:
        """Gather the definitions among arbitrary objects (e.g. a module's globals)."""
        objs = list(objects)
        return cls(entities=[o for o in objs if isinstance(o, Entity)],
                   sources=[o for o in objs if isinstance(o, Source)])

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

    def items(self) -> list[tuple[str, Definition]]:
        """``(key, definition)`` pairs, keys like ``source:transactions``, sorted."""
        pairs: list[tuple[str, Definition]] = [(f"entity:{e.name}", e) for e in self.entities]
        pairs += [(f"source:{s.name}", s) for s in self.sources]
        return sorted(pairs, key=lambda p: p[0])

    def names(self) -> list[str]:
        return [key for key, _ in self.items()]

    def specs(self) -> dict[str, dict[str, Any]]:
        return {key: d.spec() for key, d in self.items()}
