"""An entity: what features are about, identified by one or more key columns.

>>> Entity("customer", keys=["customer_id"]).keys
('customer_id',)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from confluens.core.names import check_column, check_name
from confluens.errors import DefinitionError

__all__ = ["RESERVED", "Entity"]

RESERVED = "global"  # the name of GLOBAL, the entity of views without one


@dataclass(frozen=True, slots=True)
class Entity:
    name: str
    keys: tuple[str, ...]
    description: str = ""

    def __init__(self, name: str, keys: Sequence[str] | str, description: str = "") -> None:
        object.__setattr__(self, "name", check_name("Entity", name))
        if name == RESERVED:
            raise DefinitionError(f"Entity '{name}'", "the name 'global' is reserved for "
                                  "the entity of views without one (registered as "
                                  "entity:global)", got=name,
                                  fix="name the entity after what its keys identify, e.g. "
                                  "'region'; for features over all events, pass no entity: "
                                  "FeatureView(name, None, source, features)")
        key_tuple = (keys,) if isinstance(keys, str) else tuple(keys)
        if not key_tuple:
            raise DefinitionError(f"Entity '{name}'", "needs at least one key column", got=keys,
                                  fix="pass keys=['customer_id']")
        for k in key_tuple:
            check_column(f"Entity '{name}' key", k)
        if len(set(key_tuple)) != len(key_tuple):
            raise DefinitionError(f"Entity '{name}'", "key columns must be distinct",
                                  got=list(key_tuple), fix="list each key column once")
        object.__setattr__(self, "keys", key_tuple)
        object.__setattr__(self, "description", description)

    def spec(self) -> dict[str, Any]:
        return {"kind": "entity", "name": self.name, "keys": list(self.keys),
                "description": self.description}
