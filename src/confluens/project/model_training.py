"""Training a project's model: its training set built point-in-time, then lifecycle training.

The labels source is the spine: each stored label record (ingested by the time
training starts, ``as_of``) in the protocol's days, with the model's features as of
the record's event time. The label's known-at time goes along, so the protocol can
leave out labels not yet known when its training period closes (lifecycle/train).
Lineage: the hash of the definitions (with the model's), the data snapshot (the
``as_of`` instant and each read source's stored row count) and the code version (the
project's git commit, else the confluens version).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from confluens.core import Definitions, Model
from confluens.core.system_columns import INGESTED_AT
from confluens.errors import InputError
from confluens.lifecycle.train import Progress, TrainingData, anchor, period, train_model
from confluens.lifecycle.trained import Lineage, TrainedModel
from confluens.project.training import resolve_features

if TYPE_CHECKING:
    from confluens.project.project import Project

__all__ = ["code_version", "definitions_hash", "train"]

Stage = Callable[[str], None]


def definitions_hash(definitions: Definitions, model: Model) -> str:
    """The hash of what ``model``'s versions depend on: the data definitions and the
    model itself (not the project's other models)."""
    specs = {k: v for k, v in definitions.specs().items() if not k.startswith("model:")}
    specs[f"model:{model.name}"] = model.spec()
    text = json.dumps(specs, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def code_version(root: Path) -> str:
    """``git:<commit>`` (``-dirty`` with uncommitted changes) when the project is in a
    git work tree, else ``confluens <version>``."""
    from confluens import __version__

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"confluens {__version__}"
    return f"git:{commit}{'-dirty' if dirty else ''}" if commit else f"confluens {__version__}"


def train(project: Project, name: str, *, start: dt.date | None = None,
          progress: Progress | None = None, stage: Stage | None = None) -> TrainedModel:
    """Build ``name``'s training set from the project's stores and train it."""
    definitions = project.definitions
    model = definitions.model(name)
    source = definitions.source(model.label_source)
    refs = resolve_features(definitions, model.features)
    as_of = dt.datetime.now(dt.UTC)
    if stage:
        stage("reading labels")
    labels = project.table(source.name, system_columns=True)
    labels = labels.filter(pc.less_equal(labels.column(INGESTED_AT), pa.scalar(as_of)))
    if labels.num_rows == 0:
        raise InputError(f"Model '{model.name}'", f"labels source '{source.name}' holds no "
                         "records", got=0, fix=f"run `confluens ingest {source.name}` first")
    times = labels.column(source.event_time)
    last_day = pc.max(times).as_py().astimezone(dt.UTC).date()
    first = anchor(model, last_day, start)
    earliest, end = period(model, first)
    lo = dt.datetime.combine(earliest, dt.time(), dt.UTC)
    hi = dt.datetime.combine(end, dt.time(), dt.UTC)
    spine = labels.filter(pc.and_(pc.greater_equal(times, pa.scalar(lo)),
                                  pc.less(times, pa.scalar(hi))))
    spine = spine.select(list(source.schema.names))
    if stage:
        stage(f"building the training set ({spine.num_rows:,} labelled rows, "
              f"{earliest} to {end})")
    table = project.training_set(spine, list(model.features), at=source.event_time,
                                 as_of=as_of)
    columns = tuple(ref.output(n) for ref in refs for n in ref.names)
    features = tuple(f"{ref.label}:{n}" for ref in refs for n in ref.names)
    read = sorted({source.name, *(ref.view.source.name for ref in refs)})
    snapshot = f"as_of={as_of.isoformat()}; " + ", ".join(
        f"{s}={project.offline.row_count(s)} rows" for s in read)
    lineage = Lineage(definitions_hash(definitions, model), snapshot,
                      code_version(project.root),
                      {"spine": source.name, "rows": table.num_rows, "as_of": as_of.isoformat(),
                       "first_day": str(earliest), "end_day": str(end)})
    data = TrainingData(_pandas(table), columns, features, source.event_time, source.known_at)
    if stage:
        stage("training")
    return train_model(model, data, lineage=lineage, start=first, progress=progress)


def _pandas(table: pa.Table) -> Any:
    return table.to_pandas()
