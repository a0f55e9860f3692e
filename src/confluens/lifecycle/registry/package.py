"""The confluens part of an MLflow model directory: the model file and its card.

``write(trained, folder)`` puts the estimator's file (flavors.py) and
``confluens.json`` (flavor, task, features, columns, file digest) in ``folder``;
MLflow copies that folder into the model directory as ``data/confluens``, next to
the ``MLmodel`` file whose python_function flavor names pyfunc.py as its loader.
``read(folder)`` scores with what it finds there, after checking the digest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluens.errors import StorageError
from confluens.lifecycle.registry.flavors import Score, flavor
from confluens.lifecycle.trained import TrainedModel

__all__ = ["CARD", "Card", "digest", "read", "write"]

CARD = "confluens.json"
FORMAT = 1


@dataclass(frozen=True)
class Card:
    """What confluens needs to score a saved model (``confluens.json``)."""

    flavor: str
    file: str
    sha256: str
    task: str
    features: tuple[str, ...]
    columns: tuple[str, ...]
    details: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "flavor": self.flavor, "file": self.file,
                "sha256": self.sha256, "task": self.task, "features": list(self.features),
                "columns": list(self.columns), "details": self.details}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Card:
        return cls(flavor=data["flavor"], file=data["file"], sha256=data["sha256"],
                   task=data["task"], features=tuple(data["features"]),
                   columns=tuple(data["columns"]), details=dict(data["details"]))


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def write(trained: TrainedModel, folder: Path) -> Card:
    """Save ``trained.estimator`` in its flavor's format, and its card, in ``folder``."""
    kind = flavor(trained.flavor)
    kind.require()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / kind.file
    details = kind.save(trained.estimator, path)
    card = Card(flavor=kind.name, file=kind.file, sha256=digest(path), task=trained.task,
                features=tuple(trained.features), columns=tuple(trained.columns),
                details=details)
    (folder / CARD).write_text(json.dumps(card.to_json(), indent=2, sort_keys=True))
    return card


def read_card(folder: Path) -> Card:
    try:
        return Card.from_json(json.loads((folder / CARD).read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"model files {folder}", f"must hold a readable {CARD}",
                           got=str(exc), fix="register the model again") from None


def read(folder: Path, *, sha256: str | None = None, allow_pickle: bool = False
         ) -> tuple[Card, Score]:
    """The card and a scoring function of the model saved in ``folder``.

    The model file must match the card's digest, and ``sha256`` (the digest the
    registry recorded) when given. A pickled flavor (River) is read only with
    ``allow_pickle``, which the registry's own loader alone passes.
    """
    card = read_card(folder)
    kind = flavor(card.flavor)
    path = folder / card.file
    actual = digest(path)
    for expected in filter(None, (card.sha256, sha256)):
        if actual != expected:
            raise StorageError(f"model file {path.name}", "must match the digest recorded "
                               "when it was registered", got=actual,
                               fix=f"the file was changed after registration (expected "
                               f"{expected}); register the model again")
    if kind.name == "river" and not allow_pickle:
        raise StorageError(f"model file {path.name}", "is a pickle (River), which confluens "
                           "loads only from its registry", got=str(folder),
                           fix="load it with ModelRegistry.load(name, version)")
    return card, kind.load(path, card.details, card.task)
