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
    run_id: str  # the run that wrote it (for a compacted file: the compaction's id)
    # a compacted file: the file (relative to the table folder) listing the rows it
    # holds per run it merged ({run id: rows}); written once, never changed
    runs_file: str | None = None


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
        body = json.dumps({"version": self.version, "entries": [
            {k: v for k, v in asdict(e).items() if v is not None} for e in self.entries]})
        write_atomically(folder / MANIFEST, body)

    @property
    def rows(self) -> int:
        return sum(e.rows for e in self.entries)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: a crash leaves the old content or the new, durably."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        # mkstemp makes the file 0600; give it the mode any other file would get, so a
        # project shared with a group (or read by another user) stays readable
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _umask() -> int:
    """The process's umask, read without changing it (os.umask would, for every thread)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
