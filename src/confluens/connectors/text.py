"""Text files before DuckDB reads them: does it look like text, and does it decode?

DuckDB reads UTF-8 only, and quietly drops a line it cannot decode into its rejects.
So every CSV or JSON-lines file is first decoded here, in its source's ``encoding``:
a UTF-8 file is checked and read in place; any other encoding is transcoded to a
UTF-8 copy in a scratch folder. A byte that does not decode stops the file with an
error naming the file, the byte offset and line, and the fix (``encoding=``).
"""

from __future__ import annotations

import codecs
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from confluens.errors import SourceReadError

__all__ = ["HEAD_BYTES", "check_text_head", "read_head", "readable_utf8"]

HEAD_BYTES = 64 * 1024
_BLOCK = 1024 * 1024
# byte signatures of formats that are not text, as (prefix, what the file looks like)
_SIGNATURES = ((b"PAR1", "a Parquet file"), (b"\x1f\x8b", "a gzip-compressed file"),
               (b"PK\x03\x04", "a zip archive"), (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
               (b"BZh", "a bzip2-compressed file"), (b"SQLite format 3", "an SQLite database"))
_CONTROL = frozenset(range(32)) - {9, 10, 11, 12, 13, 26}  # all but \t \n \v \f \r and ^Z


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a file; an unreadable file is a SourceReadError."""
    try:
        with path.open("rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise SourceReadError(f"input {path.name}", "cannot be opened",
                              got=exc.strerror or str(exc),
                              fix="check the file exists and is readable") from None


def _wide(encoding: str) -> bool:
    """UTF-16 and UTF-32 text is full of NUL bytes."""
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def check_text_head(path: Path, head: bytes, encoding: str, kind: str) -> None:
    """Refuse a file whose first bytes show it is not ``kind`` text (CSV, JSON lines)."""
    if _wide(encoding):
        return
    for signature, looks_like in _SIGNATURES:
        if head.startswith(signature):
            raise SourceReadError(f"input {path.name}", f"does not look like a {kind} file: "
                                  f"it starts like {looks_like}", got=head[:16],
                                  fix=f"convert it to {kind}, or give it the extension of "
                                  "its format")
    nul = head.find(b"\x00")
    control = sum(1 for b in head if b in _CONTROL)
    if nul >= 0 or control > max(2, len(head) // 20):
        where = f"a NUL byte at byte offset {nul}" if nul >= 0 else \
            f"{control} control characters in its first {len(head)} bytes"
        raise SourceReadError(f"input {path.name}", f"does not look like a {kind} file: it "
                              f"holds binary data ({where})", got=head[:16],
                              fix=f"check the file; a {kind} file is text")
    _decode(path, [head], encoding, final=len(head) < HEAD_BYTES)


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            yield block


def _decode(path: Path, blocks: Iterator[bytes] | list[bytes], encoding: str, *,
            final: bool = True, out: codecs.StreamWriter | None = None) -> None:
    """Decode ``blocks`` (a file from its start); write the text to ``out`` if given."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = lines = 0
    for block in blocks:
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(block, final=False)
        except UnicodeDecodeError as exc:
            at = offset - pending + exc.start
            line = lines + block[:max(exc.start - pending, 0)].count(b"\n") + 1
            bad = bytes(exc.object[exc.start:exc.end])
            raise SourceReadError(
                f"input {path.name}", f"is not valid {encoding} text: byte 0x{bad[0]:02x} at "
                f"byte offset {at} (line {line}) does not decode", got=bytes(
                    exc.object[max(exc.start - 12, 0):exc.end + 12]),
                fix="set encoding= on the source to the file's encoding (e.g. "
                "encoding='latin-1' or 'cp1252'), or convert the file to UTF-8") from None
        if out is not None:
            out.write(text)
        offset += len(block)
        lines += block.count(b"\n")
    if final:
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise SourceReadError(f"input {path.name}", f"is not valid {encoding} text: it "
                                  "ends inside a character", got=offset,
                                  fix="set encoding= on the source to the file's encoding, or "
                                  "check the file is complete") from None
        if out is not None:
            out.write(tail)


@contextmanager
def readable_utf8(path: Path, encoding: str) -> Iterator[Path]:
    """A UTF-8 path with the file's text: the file itself (checked) if its encoding is
    UTF-8, else a transcoded copy that is removed on exit."""
    if codecs.lookup(encoding).name == "utf-8":
        _decode(path, _blocks(path), encoding)
        yield path
        return
    scratch = Path(tempfile.mkdtemp(prefix="confluens-text-"))
    try:
        copy = scratch / path.name
        with copy.open("wb") as raw:
            writer = codecs.getwriter("utf-8")(raw)
            _decode(path, _blocks(path), encoding, out=writer)
        yield copy
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
