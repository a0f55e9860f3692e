"""One entity's recent events as compact bytes: the online store's value format.

Columns, not rows, packed with :mod:`struct` (little-endian). A read parses a fixed
header, looks its directory up in a small cache (the entities of a view share a few
directories), unpacks the event times, and unpacks other values only when an
aggregation asks for them, and then only the slice it aggregates
(:class:`PackedEvents` is the evaluator's ``EventColumns``). Layout, format 2::

    header     magic 0xC5 (u8), format 2 (u8), flags (u8: 1 = some event became known
               after its time), n events (u32), latest known-at time (i64),
               directory length (u32)
    directory  JSON: {"c": [[column, type, has nulls], ...], "f": [filter, ...]}
    offsets    u32 each: known-at times (0 if none), ties, versions (0 if none), then
               per column its null mask (0 if none) and its values, then per filter
               its flags
    times      n x i64, ascending (events are in (time, version, tie) order)
    known-at   n x i64, with flag 1 only
    ties       u32 byte length, n x u32 lengths, UTF-8 text
    versions   n x i64, for sources with a version column (``plan/version.py``: a
               null version is ``OLDEST``)
    columns    [n x u8 null mask, 1 = null], values: ``q`` n x i64, ``d`` n x f64,
               ``?`` n x u8, ``s`` as ties, ``j`` u32 byte length and a JSON list
               (other types, written as text where JSON has none). A null's slot
               holds 0 or "".
    filters    n x u8, 1 = the event passes

Format 2 added the versions: a stream processor places a late event among events of
equal time by (version, tie) (``streaming/entity_state.py``); a read does not need
them. The JSON state of earlier releases starts with ``{``, never 0xC5: reading it, or
a state of another format, raises ``ProjectError`` asking to re-run
``confluens materialize``.

>>> blob = pack_events([1, 5], ["a", "b"], [1, 7], {"v": ("d", [2.5, None])}, {})
>>> ev = unpack_events(blob, "feature view 'v'")
>>> ev.t, list(ev.column("v")), ev.unknown_at(6), ev.unknown_at(7)
((1, 5), [2.5, None], (1, 7), None)
"""

from __future__ import annotations

import json
import operator
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from confluens.errors import ProjectError

__all__ = ["FORMAT", "MAGIC", "TYPES", "PackedEvents", "pack_events", "unpack_events"]

MAGIC = 0xC5
FORMAT = 2
TYPES = ("q", "d", "?", "s", "j")
_HEADER = struct.Struct("<BBBIqI")
_U32 = struct.Struct("<I")
_LATE = 1
_VERSIONS = 2  # the versions' slot among the offsets
_FIRST = 3  # the first column's slot


def _text(values: Sequence[str]) -> bytes:
    joined = "".join(values)
    raw = joined.encode()
    if len(raw) == len(joined):  # ASCII: byte lengths are character lengths
        lengths: Sequence[int] = list(map(len, values))
    else:
        encoded = [v.encode() for v in values]
        lengths, raw = list(map(len, encoded)), b"".join(encoded)
    return b"".join([_U32.pack(len(raw)), struct.pack(f"<{len(lengths)}I", *lengths), raw])


_DIRECTORY_TEXT: dict[tuple[tuple[tuple[str, str, bool], ...], tuple[str, ...]], bytes] = {}


def _directory(described: list[tuple[str, str, bool]], filters: tuple[str, ...]) -> bytes:
    """The directory's JSON text (the entities of a view share a few: cached)."""
    key = (tuple(described), filters)
    found = _DIRECTORY_TEXT.get(key)
    if found is None:
        if len(_DIRECTORY_TEXT) >= 512:
            _DIRECTORY_TEXT.clear()
        found = _DIRECTORY_TEXT[key] = json.dumps(
            {"c": [list(d) for d in described], "f": list(filters)},
            separators=(",", ":")).encode()
    return found


def pack_events(t: Sequence[int], tie: Sequence[str], known: Sequence[int],
                values: Mapping[str, tuple[str, Sequence[Any]]],
                filters: Mapping[str, Sequence[Any]],
                versions: Sequence[int] | None = None) -> bytes:
    """Pack one entity's events, sorted by (time, version, tie).

    ``values`` maps each column to its type (one of ``TYPES``) and values (None for
    null); ``filters`` maps each filter text to whether each event passes it;
    ``versions``: each event's version as an int64 (None: the source has none).
    """
    n = len(t)
    late = any(map(operator.gt, known, t))
    sections: list[bytes | None] = [
        struct.pack(f"<{n}q", *known) if late else None, _text(tie),
        None if versions is None else struct.pack(f"<{n}q", *versions)]
    described: list[tuple[str, str, bool]] = []
    for name, (kind, column) in values.items():
        if kind not in TYPES:
            raise ValueError(f"column type {kind!r} is not one of {TYPES}")
        has_nulls = None in column
        described.append((name, kind, has_nulls))
        sections.append(bytes([v is None for v in column]) if has_nulls else None)
        if kind == "q":
            sections.append(struct.pack(f"<{n}q", *([0 if v is None else v for v in column]
                                                    if has_nulls else column)))
        elif kind == "d":
            sections.append(struct.pack(f"<{n}d", *([0.0 if v is None else v for v in column]
                                                    if has_nulls else column)))
        elif kind == "?":
            sections.append(bytes(map(bool, column)))
        elif kind == "s":
            sections.append(_text(["" if v is None else v for v in column] if has_nulls
                                  else column))
        else:
            raw = json.dumps(list(column), default=str, separators=(",", ":")).encode()
            sections.append(_U32.pack(len(raw)) + raw)
    sections.extend(bytes(map(bool, passes)) for passes in filters.values())
    directory = _directory(described, tuple(filters))
    at = _HEADER.size + len(directory) + 4 * len(sections) + 8 * n
    offsets = []
    for section in sections:
        offsets.append(0 if section is None else at)
        at += 0 if section is None else len(section)
    return b"".join([
        _HEADER.pack(MAGIC, FORMAT, _LATE if late else 0, n, max(known, default=0),
                     len(directory)),
        directory, struct.pack(f"<{len(offsets)}I", *offsets), struct.pack(f"<{n}q", *t),
        *[s for s in sections if s is not None]])


class _Directory:
    """What a directory says, parsed once and shared by every state that has it."""

    __slots__ = ("columns", "filters", "nulls", "offsets")

    def __init__(self, raw: bytes) -> None:
        parsed = json.loads(raw)
        # name -> (type, index of its mask offset; the values' offset follows it)
        self.columns = {name: (kind, _FIRST + 2 * i)
                        for i, (name, kind, _) in enumerate(parsed["c"])}
        self.nulls = {name: bool(has) for name, _, has in parsed["c"]}
        self.filters = {w: _FIRST + 2 * len(parsed["c"]) + i
                        for i, w in enumerate(parsed["f"])}
        self.offsets = struct.Struct(f"<{_FIRST + 2 * len(parsed['c']) + len(parsed['f'])}I")


_DIRECTORIES: dict[bytes, _Directory] = {}


class PackedEvents:
    """A packed state, read lazily: values are unpacked when asked for."""

    __slots__ = ("_blob", "_decoded", "_dir", "_late", "_max_known", "_offsets", "n", "t")

    def __init__(self, blob: bytes, n: int, t: Sequence[int], late: bool, max_known: int,
                 directory: _Directory, offsets: tuple[int, ...]) -> None:
        self._blob = blob
        self.n = n
        self.t = t
        self._late = late
        self._max_known = max_known
        self._dir = directory
        self._offsets = offsets
        self._decoded: dict[str, Sequence[Any]] = {}

    # -- EventColumns --------------------------------------------------------------

    def column(self, name: str) -> Sequence[Any]:
        found = self._decoded.get(name)
        if found is None:
            found = self._decoded[name] = self._unpack(name)
        return found

    def values_of(self, name: str, lo: int, hi: int) -> Sequence[Any]:
        found = self._dir.columns.get(name)
        if found is not None and found[0] in "qd" and not self._dir.nulls[name]:
            return struct.unpack_from(f"<{hi - lo}{found[0]}", self._blob,
                                      self._offsets[found[1] + 1] + 8 * lo)
        return self.column(name)[lo:hi]

    def has_nulls(self, name: str) -> bool:
        return self._dir.nulls.get(name, True)

    def passes(self, where: str) -> Sequence[Any]:
        found = self._dir.filters.get(where)
        if found is None:
            return bytes(self.n)
        at = self._offsets[found]
        return self._blob[at:at + self.n]

    def unknown_at(self, at: int) -> Sequence[int] | None:
        return self.known if self._late and at < self._max_known else None

    # -- everything else, for tools and tests ------------------------------------------

    @property
    def known(self) -> Sequence[int]:
        if not self._late:
            return self.t
        return struct.unpack_from(f"<{self.n}q", self._blob, self._offsets[0])

    @property
    def tie(self) -> list[str]:
        return _unpack_text(self._blob, self._offsets[1], self.n)

    @property
    def versions(self) -> Sequence[int] | None:
        """Each event's version (None: the source has no version column)."""
        at = self._offsets[_VERSIONS]
        return None if at == 0 else struct.unpack_from(f"<{self.n}q", self._blob, at)

    @property
    def columns(self) -> list[str]:
        return list(self._dir.columns)

    @property
    def filters(self) -> list[str]:
        return list(self._dir.filters)

    def _unpack(self, name: str) -> Sequence[Any]:
        found = self._dir.columns.get(name)
        n = self.n
        if found is None:
            return [None] * n
        (kind, slot), blob = found, self._blob
        at = self._offsets[slot + 1]
        values: Sequence[Any]
        if kind in "qd":
            values = struct.unpack_from(f"<{n}{kind}", blob, at)
        elif kind == "?":
            values = [b == 1 for b in blob[at:at + n]]
        elif kind == "s":
            values = _unpack_text(blob, at, n)
        else:
            (size,) = _U32.unpack_from(blob, at)
            return json.loads(blob[at + 4:at + 4 + size])  # type: ignore[no-any-return]
        if not self._dir.nulls[name]:
            return values
        mask = self._offsets[slot]
        return [None if m else v for v, m in zip(values, blob[mask:mask + n], strict=True)]


def _unpack_text(blob: bytes, at: int, n: int) -> list[str]:
    (size,) = _U32.unpack_from(blob, at)
    lengths = struct.unpack_from(f"<{n}I", blob, at + 4)
    start = at + 4 + 4 * n
    raw = blob[start:start + size]
    text = raw.decode()
    ascii_only = len(text) == size  # byte lengths are then character lengths
    out: list[str] = []
    pos = 0
    for length in lengths:
        out.append(text[pos:pos + length] if ascii_only else raw[pos:pos + length].decode())
        pos += length
    return out


def _not_readable(what: str, blob: bytes) -> ProjectError:
    if blob[:1] == b"{":
        return ProjectError(what, "its online state was written in the older JSON format",
                            fix="re-run `confluens materialize` for this view to rewrite it "
                            "(if it reports the view as skipped, delete its record under "
                            ".confluens/materialized/ first)")
    if blob[:1] == bytes([MAGIC]) and len(blob) >= 2:
        return ProjectError(what, f"its online state is in format {blob[1]}; this release "
                            f"reads format {FORMAT}",
                            fix="re-run `confluens materialize` with this release")
    return ProjectError(what, "its online state is not in a format this release reads",
                        got=bytes(blob[:8]), fix="re-run `confluens materialize`")


def unpack_events(blob: bytes, what: str) -> PackedEvents:
    """Read a packed state; ``what`` names its view in error messages."""
    try:
        magic, version, flags, n, max_known, size = _HEADER.unpack_from(blob, 0)
    except struct.error:
        raise _not_readable(what, blob) from None
    if magic != MAGIC or version != FORMAT:
        raise _not_readable(what, blob)
    start = _HEADER.size + size
    raw = blob[_HEADER.size:start]
    directory = _DIRECTORIES.get(raw)
    if directory is None:
        if len(_DIRECTORIES) >= 512:
            _DIRECTORIES.clear()
        directory = _DIRECTORIES[raw] = _Directory(raw)
    offsets = directory.offsets.unpack_from(blob, start)
    start += directory.offsets.size
    t = struct.unpack_from(f"<{n}q", blob, start)
    return PackedEvents(blob, n, t, bool(flags & _LATE), max_known, directory, offsets)
