"""The manifest that makes appends atomic.

A table's visible files are exactly those listed in ``_manifest.json``. A writer
first writes its data files, then replaces the manifest with ``os.replace``,
which is atomic on POSIX file systems. A writer that dies before that leaves only
unlisted files, which readers never see and the next writer removes.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Manifest", "ManifestEntry", "write_atomically"]

MANIFEST = "_manifest.json"


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    path: str  # relative to the table folder
    rows: int
    run_id: str


@dataclass(frozen=True, slots=True)
class Manifest:
    version: int
    entries: tuple[ManifestEntry, ...]

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        if not path.exists():
            return cls(0, ())
        raw = json.loads(path.read_text())
        return cls(raw["version"], tuple(ManifestEntry(**e) for e in raw["entries"]))

    def with_entries(self, new: list[ManifestEntry]) -> Manifest:
        return Manifest(self.version + 1, self.entries + tuple(new))

    def commit(self, folder: Path) -> None:
        """Write this manifest in place of the current one, atomically and durably."""
        body = json.dumps({"version": self.version, "entries": [asdict(e) for e in self.entries]})
        write_atomically(folder / MANIFEST, body)

    @property
    def rows(self) -> int:
        return sum(e.rows for e in self.entries)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: a crash leaves the old content or the new, durably."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
