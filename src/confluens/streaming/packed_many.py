"""Many entities' events packed at once, byte for byte as :func:`packed.pack_events`.

A stream processor seals every entity a micro-batch touched (``streaming/entity_state.py``):
thousands of entities of a few dozen events each. Packing them one by one spends most
of its time per call and per value in Python; :func:`pack_many` takes the entities'
columns one after another (entity i's events are ``bounds[i]:bounds[i + 1]`` of each)
and packs each column of all of them at once (:mod:`array`, C loops), then cuts
each entity's value out of those buffers: its header, directory, offsets and
sections, joined. The bytes are those of ``pack_events`` over each entity's slice of
the columns (``packed.py`` states the layout; a property test checks they are equal).

>>> from confluens.streaming.packed import pack_events
>>> columns = ([1, 5, 3], ["a", "b", "c"], [1, 7, 3], {"v": ("d", [2.5, None, 1.0])}, {})
>>> pack_many([0, 2, 3], *columns) == [
...     pack_events([1, 5], ["a", "b"], [1, 7], {"v": ("d", [2.5, None])}, {}),
...     pack_events([3], ["c"], [3], {"v": ("d", [1.0])}, {})]
True
"""

from __future__ import annotations

import json
import sys
from array import array
from collections.abc import Mapping, Sequence
from itertools import accumulate
from typing import Any

import numpy as np
import pyarrow as pa

from confluens.streaming.packed import _HEADER, _LATE, FORMAT, MAGIC, TYPES, _directory
from confluens.streaming.packed import _U32 as _SIZE

__all__ = ["pack_many"]

_LITTLE = sys.byteorder == "little"
_U32 = "I" if array("I").itemsize == 4 else "L"
# the packed header (``packed._HEADER``, "<BBBIqI") as one record per entity
_HEADERS = np.dtype([("magic", "u1"), ("format", "u1"), ("flags", "u1"), ("n", "<u4"),
                     ("known", "<i8"), ("directory", "<u4")])
assert _HEADERS.itemsize == _HEADER.size


def _raw(code: str, values: Sequence[Any]) -> bytes:
    """``values`` as little-endian C values of the :mod:`array` type ``code`` (raises,
    as ``struct.pack`` does, for a value of another type)."""
    packed = array(code, values)
    if not _LITTLE:
        packed.byteswap()
    return packed.tobytes()


# A section of every entity: its pieces, each a buffer and per entity the [start, end)
# of its bytes in it, and per entity whether it has the section (None: every one).
_Piece = tuple[bytes, list[int], list[int]]
_Section = tuple[list[_Piece], list[bool] | None, list[int]]  # pieces, present, sizes


def _fixed(raw: bytes, width: int, lo: list[int], hi: list[int],
           present: list[bool] | None = None) -> _Section:
    starts, ends = [width * i for i in lo], [width * i for i in hi]
    sizes = [e - s for s, e in zip(starts, ends, strict=True)]
    if present is not None:
        sizes = [s if p else 0 for s, p in zip(sizes, present, strict=True)]
    return [(raw, starts, ends)], present, sizes


def _texts(values: Sequence[str] | Sequence[int], lo: list[int], hi: list[int]) -> _Section:
    """Each entity's ``packed._text`` of its slice of ``values``: u32 byte length, u32
    lengths, UTF-8 text (integers: their decimal text, written by Arrow, three times
    faster than ``str``)."""
    at: Sequence[int]
    if values and set(map(type, values)) == {int}:
        try:
            text = pa.array(values, pa.int64()).cast(pa.string())
        except OverflowError:  # beyond int64: as text
            return _texts(list(map(str, values)), lo, hi)
        offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, 4 * text.offset)
        at = offsets.astype(np.int64).tolist()
        lengths = _raw(_U32, np.diff(offsets).tolist())
        raw = text.buffers()[2].to_pybytes()
    else:
        joined = "".join(values)  # type: ignore[arg-type]
        encoded = joined.encode()
        if len(encoded) == len(joined):  # ASCII: byte lengths are character lengths
            sizes: Sequence[int] = list(map(len, values))  # type: ignore[arg-type]
        else:
            parts = [v.encode() for v in values]  # type: ignore[union-attr]
            sizes, encoded = list(map(len, parts)), b"".join(parts)
        at, lengths, raw = [0, *accumulate(sizes)], _raw(_U32, sizes), encoded
    byte_lo, byte_hi = [at[i] for i in lo], [at[i] for i in hi]
    size = [e - s for s, e in zip(byte_lo, byte_hi, strict=True)]
    heads = _raw(_U32, size)
    pieces = [(heads, [4 * i for i in range(len(lo))], [4 * i + 4 for i in range(len(lo))]),
              (lengths, [4 * i for i in lo], [4 * i for i in hi]), (raw, byte_lo, byte_hi)]
    return pieces, None, [4 + 4 * (b - a) + s for a, b, s in zip(lo, hi, size, strict=True)]


def _segments(flags: Sequence[Any] | np.ndarray, lo: list[int], hi: list[int]) -> list[bool]:
    """Per entity whether any of its slice of ``flags`` is true."""
    at = np.zeros(len(flags) + 1, np.int64)
    np.cumsum(np.asarray(flags, bool), out=at[1:])
    return (at[hi] > at[lo]).tolist()  # type: ignore[no-any-return]


def pack_many(bounds: Sequence[int], t: Sequence[int], tie: Sequence[str] | Sequence[int],
              known: Sequence[int], values: Mapping[str, tuple[str, Sequence[Any]]],
              filters: Mapping[str, Sequence[Any]], versions: Sequence[int] | None = None,
              prefixes: Sequence[bytes] | None = None) -> list[bytes]:
    """``pack_events`` of each entity's slice ``bounds[i]:bounds[i + 1]`` of the
    columns (each entity's events sorted by (time, version, tie); integer ties are
    written as their decimal text), with ``prefixes[i]`` (if given) before entity i's
    bytes."""
    lo, hi = list(bounds[:-1]), list(bounds[1:])
    count = len(lo)
    if count == 0:
        return []
    n = [b - a for a, b in zip(lo, hi, strict=True)]
    times = _raw("q", t)
    t_at = np.frombuffer(times, "<i8")
    known_raw = times if known is t else _raw("q", known)
    known_at = np.frombuffer(known_raw, "<i8")
    late = _segments(known_at > t_at, lo, hi)
    top = np.zeros(count, np.int64)  # max(known, default=0) of each entity
    some = [i for i in range(count) if n[i]]
    if some:
        top[some] = np.maximum.reduceat(known_at, [lo[i] for i in some])
    sections: list[_Section] = [_fixed(known_raw, 8, lo, hi, late), _texts(tie, lo, hi)]
    sections.append(([], [False] * count, [0] * count) if versions is None  # its slot: 0
                    else _fixed(_raw("q", versions), 8, lo, hi))
    nulls: list[list[bool]] = []  # per column, per entity: whether some value is null
    for kind, column in values.values():
        if kind not in TYPES:
            raise ValueError(f"column type {kind!r} is not one of {TYPES}")
        filled: Sequence[Any] = column
        if kind == "j" or None in column:
            mask = [v is None for v in column]
            has = _segments(mask, lo, hi)
            sections.append(_fixed(bytes(mask), 1, lo, hi, has))
            filled = [0 if v is None else v for v in column]
        else:
            has = [False] * count
            sections.append(([], has, [0] * count))
        nulls.append(has)
        if kind == "q":
            sections.append(_fixed(_raw("q", filled), 8, lo, hi))
        elif kind == "d":  # a null's 0 packs as 0.0
            sections.append(_fixed(_raw("d", filled), 8, lo, hi))
        elif kind == "?":
            sections.append(_fixed(bytes(map(bool, column)), 1, lo, hi))
        elif kind == "s":
            sections.append(_texts(column if filled is column
                                   else ["" if v is None else v for v in column], lo, hi))
        else:
            texts = [json.dumps(list(column[a:b]), default=str,
                                separators=(",", ":")).encode()
                     for a, b in zip(lo, hi, strict=True)]
            ends = list(accumulate(4 + len(text) for text in texts))
            joined = b"".join(part for text in texts for part in (_SIZE.pack(len(text)), text))
            sections.append(([(joined, [0, *ends[:-1]], ends)], None,
                             [4 + len(text) for text in texts]))
    for passes in filters.values():
        sections.append(_fixed(bytes(map(bool, passes)), 1, lo, hi))
    # each entity's directory: the entities of a view share a few
    names = [(name, kind) for name, (kind, _) in values.items()]
    where = tuple(filters)
    directories: dict[tuple[bool, ...], bytes] = {}
    directory: list[bytes] = []
    for has_nulls in zip(*nulls, strict=True) if nulls else [()] * count:
        found = directories.get(has_nulls)
        if found is None:
            found = directories[has_nulls] = _directory(
                [(c, k, h) for (c, k), h in zip(names, has_nulls, strict=True)], where)
        directory.append(found)
    # the offsets: each section's start, 0 where an entity has none
    sizes = np.array([s[2] for s in sections], np.int64).reshape(len(sections), count)
    present = np.array([[True] * count if s[1] is None else s[1] for s in sections],
                       bool).reshape(len(sections), count)
    lengths = np.array([len(d) for d in directory], np.int64)
    base = _HEADER.size + lengths + 4 * len(sections) + 8 * np.array(n, np.int64)
    offsets = base + np.cumsum(sizes, axis=0) - sizes
    offsets[~present] = 0
    if int(offsets.max(initial=0)) >= 2**32:
        raise ValueError("a packed state's sections must start within its first 4 GiB")
    offset_raw = np.ascontiguousarray(offsets.T).astype("<u4").tobytes()
    heads = np.zeros(count, _HEADERS)
    heads["magic"], heads["format"] = MAGIC, FORMAT
    heads["flags"] = [_LATE if x else 0 for x in late]
    heads["n"], heads["known"], heads["directory"] = n, top, lengths
    head_raw = heads.tobytes()
    size, step = _HEADER.size, 4 * len(sections)
    # each entity's pieces, piece by piece (an absent section: empty pieces), joined
    pieces: list[Sequence[bytes]] = [
        [head_raw[size * i:size * i + size] for i in range(count)], directory,
        [offset_raw[step * i:step * i + step] for i in range(count)],
        [times[8 * a:8 * b] for a, b in zip(lo, hi, strict=True)]]
    if prefixes is not None:
        pieces.insert(0, prefixes)
    for parts, present_in, _ in sections:
        for buffer, starts, ends in parts:
            pieces.append([buffer[a:b] for a, b in zip(starts, ends, strict=True)]
                          if present_in is None else
                          [buffer[a:b] if p else b"" for a, b, p in zip(starts, ends,
                                                                        present_in,
                                                                        strict=True)])
    return [b"".join(one) for one in zip(*pieces, strict=True)]
