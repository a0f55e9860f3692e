"""The entity of views without one: global features, joined to rows by time alone.

``FeatureView(name, None, source, features)`` (or ``entity=GLOBAL``) computes its
features over all of the source's events as one entity, with no key columns: a
training set joins them to every spine row by its time, and an online read needs no
key. ``GLOBAL`` is the one Entity without key columns, and the only one named
``global``; ``Entity(...)`` itself requires at least one key and refuses that name.

>>> GLOBAL.name, GLOBAL.keys
('global', ())
"""

from __future__ import annotations

from confluens.core.entity import RESERVED, Entity

__all__ = ["GLOBAL"]


def _without_keys() -> Entity:
    entity = object.__new__(Entity)
    object.__setattr__(entity, "name", RESERVED)
    object.__setattr__(entity, "keys", ())
    object.__setattr__(entity, "description", "every event, with no key columns")
    return entity


GLOBAL = _without_keys()
