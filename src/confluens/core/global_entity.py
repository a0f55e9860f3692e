"""The entity of views without one: global features, joined to rows by time alone.

``FeatureView(name, None, source, features)`` (or ``entity=GLOBAL``) computes its
features over all of the source's events as one entity, with no key columns: a
training set joins them to every spine row by its time, and an online read needs no
key. ``GLOBAL`` is the one Entity without key columns; ``Entity(...)`` itself still
requires at least one.

>>> GLOBAL.name, GLOBAL.keys
('global', ())
"""

from __future__ import annotations

from confluens.core.entity import Entity

__all__ = ["GLOBAL"]


def _without_keys() -> Entity:
    entity = object.__new__(Entity)
    object.__setattr__(entity, "name", "global")
    object.__setattr__(entity, "keys", ())
    object.__setattr__(entity, "description", "every event, with no key columns")
    return entity


GLOBAL = _without_keys()
