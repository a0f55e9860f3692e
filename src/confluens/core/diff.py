"""What changed between two sets of definition specs, as `confluens apply` prints it.

>>> old = {"source:tx": {"a": 1}, "entity:c": {"k": 1}}
>>> new = {"source:tx": {"a": 2}, "source:labels": {"a": 1}}
>>> plan = diff_specs(old, new)
>>> plan.added, plan.removed, [c.key for c in plan.changed]
(['source:labels'], ['entity:c'], ['source:tx'])
>>> plan.changed[0].fields
['a']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Change", "DefinitionsDiff", "diff_specs"]


@dataclass(frozen=True, slots=True)
class Change:
    key: str
    fields: list[str]


@dataclass(frozen=True, slots=True)
class DefinitionsDiff:
    added: list[str]
    changed: list[Change]
    removed: list[str]
    unchanged: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def diff_specs(old: Mapping[str, Mapping[str, Any]],
               new: Mapping[str, Mapping[str, Any]]) -> DefinitionsDiff:
    changed = []
    unchanged = []
    for key in sorted(set(old) & set(new)):
        fields = sorted(k for k in set(old[key]) | set(new[key])
                        if old[key].get(k) != new[key].get(k))
        if fields:
            changed.append(Change(key, fields))
        else:
            unchanged.append(key)
    return DefinitionsDiff(added=sorted(set(new) - set(old)), changed=changed,
                           removed=sorted(set(old) - set(new)), unchanged=unchanged)
