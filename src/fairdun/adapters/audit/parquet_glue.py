"""Parquet files of one schema joined into one file by copying their row groups as encoded: no decoding.

PyArrow's Parquet writer encodes and compresses one column after another on one thread, which made it the
longest step of the audit's output. Parts written side by side, each to its own file on its own thread (the
writer releases the GIL), and then joined here take about half as long on two cores (docs/benchmarks.md).

A Parquet file is the magic ``PAR1``, the row groups' column chunks, the footer (a ``FileMetaData`` in Thrift's
compact protocol), the footer's length (4 bytes, little-endian) and ``PAR1`` again. The footer locates every
column chunk by its offset from the start of the file. Joining copies each part's bytes between the magic and
its footer, one after another, and writes one footer: the first part's, with every part's row groups, their
offsets moved by where the part's bytes now start, and the total of rows. The Thrift structures are read and
written generically (each value carries its type in the compact protocol), so every field the writer put in a
footer passes through as it was; only the offsets, the row count and the row groups' ordinals are touched.
Field numbers are the Parquet format's (``parquet.thrift``).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"PAR1"

# Thrift compact protocol type codes.
STOP, TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)

# A struct is its fields by number, in the order read: (type, value). Lists and sets are (element type, values),
# maps (key type, value type, pairs), booleans in a collection the byte as written.
Fields = dict[int, tuple[int, Any]]

# Where a footer locates bytes in the file (parquet.thrift): FileMetaData.row_groups (4), RowGroup.columns (1)
# and file_offset (5), ColumnChunk.file_offset (2) and meta_data (3), ColumnMetaData.data_page_offset (9),
# index_page_offset (10), dictionary_page_offset (11) and bloom_filter_offset (14). A page index
# (ColumnChunk.offset_index_offset (4), column_index_offset (6)) is refused: its offset index holds the pages'
# offsets inside it, which would have to be rewritten (the audit's output writes none).
_ROW_GROUPS, _NUM_ROWS = 4, 3
_RG_COLUMNS, _RG_OFFSET, _RG_ORDINAL = 1, 5, 7
_CC_OFFSETS, _CC_META, _CC_PAGE_INDEX = (2,), 3, (4, 6)
_CMD_OFFSETS = (9, 10, 11, 14)


class GlueError(ValueError):
    """A part that is not a Parquet file this module can join, or parts that do not match."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise GlueError("the footer ends in the middle of a value")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise GlueError("a number in the footer is too long")

    def signed(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise GlueError("the footer ends in the middle of a value")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def value(self, kind: int) -> Any:
        if kind in (TRUE, FALSE):  # an element of a collection: one byte
            return self.byte()
        if kind == BYTE:
            return struct.unpack("b", self.take(1))[0]
        if kind in (I16, I32, I64):
            return self.signed()
        if kind == DOUBLE:
            return struct.unpack("<d", self.take(8))[0]
        if kind == BINARY:
            return self.take(self.varint())
        if kind in (LIST, SET):
            head = self.byte()
            size, element = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            return (element, [self.value(element) for _ in range(size)])
        if kind == MAP:
            size = self.varint()
            if size == 0:
                return (0, 0, [])
            types = self.byte()
            key, val = types >> 4, types & 0x0F
            return (key, val, [(self.value(key), self.value(val)) for _ in range(size)])
        if kind == STRUCT:
            return self.fields()
        raise GlueError(f"unknown Thrift type {kind} in the footer")

    def fields(self) -> Fields:
        found: Fields = {}
        last = 0
        while True:
            head = self.byte()
            if head == STOP:
                return found
            kind, delta = head & 0x0F, head >> 4
            number = last + delta if delta else self.signed()
            found[number] = (kind, None if kind in (TRUE, FALSE) else self.value(kind))
            last = number


def _varint(n: int, out: bytearray) -> None:
    while True:
        if n < 0x80:
            out.append(n)
            return
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def _signed(n: int, out: bytearray) -> None:
    _varint((n << 1) ^ (n >> 63), out)


def _value(kind: int, value: Any, out: bytearray) -> None:
    if kind in (TRUE, FALSE):
        assert isinstance(value, int)
        out.append(value)
    elif kind == BYTE:
        assert isinstance(value, int)
        out += struct.pack("b", value)
    elif kind in (I16, I32, I64):
        assert isinstance(value, int)
        _signed(value, out)
    elif kind == DOUBLE:
        assert isinstance(value, float)
        out += struct.pack("<d", value)
    elif kind == BINARY:
        assert isinstance(value, bytes)
        _varint(len(value), out)
        out += value
    elif kind in (LIST, SET):
        element, items = value
        if len(items) < 15:
            out.append(len(items) << 4 | element)
        else:
            out.append(0xF0 | element)
            _varint(len(items), out)
        for item in items:
            _value(element, item, out)
    elif kind == MAP:
        key, val, pairs = value
        _varint(len(pairs), out)
        if pairs:
            out.append(key << 4 | val)
            for k, v in pairs:
                _value(key, k, out)
                _value(val, v, out)
    elif kind == STRUCT:
        assert isinstance(value, dict)
        _fields(value, out)
    else:
        raise GlueError(f"unknown Thrift type {kind}")


def _fields(found: Fields, out: bytearray) -> None:
    last = 0
    for number, (kind, value) in found.items():
        delta = number - last
        if 0 < delta <= 15:
            out.append(delta << 4 | kind)
        else:
            out.append(kind)
            _signed(number, out)
        if kind not in (TRUE, FALSE):
            _value(kind, value, out)
        last = number
    out.append(STOP)


def decode(footer: bytes) -> Fields:
    """A footer (``FileMetaData``, compact protocol) as its fields; :func:`encode` gives the same bytes back."""
    reader = _Reader(footer)
    found = reader.fields()
    if reader.pos != len(footer):
        raise GlueError("bytes left over after the footer")
    return found


def encode(found: Fields) -> bytes:
    out = bytearray()
    _fields(found, out)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class _Part:
    path: Path
    data_end: int  # where the footer starts: the row groups are the bytes from 4 up to here
    meta: Fields


def _read_part(path: Path) -> _Part:
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(4)
        if size < 12 or head != MAGIC:
            raise GlueError(f"{path}: not a Parquet file (or an encrypted one, which is not joined)")
        f.seek(size - 8)
        tail = f.read(8)
        if tail[4:] != MAGIC:
            raise GlueError(f"{path}: not a Parquet file (or an encrypted one, which is not joined)")
        length = int.from_bytes(tail[:4], "little")
        data_end = size - 8 - length
        if data_end < 4:
            raise GlueError(f"{path}: its footer's length is larger than the file")
        f.seek(data_end)
        try:
            meta = decode(f.read(length))
        except GlueError as exc:
            raise GlueError(f"{path}: {exc}") from None
    try:  # the structure the join reads, checked before anything is written
        int(meta[_NUM_ROWS][1])
        for group in meta[_ROW_GROUPS][1][1]:
            for chunk in group[_RG_COLUMNS][1][1]:
                if any(n in chunk for n in _CC_PAGE_INDEX):
                    raise GlueError(f"{path}: has a page index, which is not joined")
                for n in _CMD_OFFSETS:
                    int(chunk[_CC_META][1].get(n, (I64, 0))[1])
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, GlueError):
            raise
        raise GlueError(f"{path}: its footer is not laid out as a Parquet file's") from None
    return _Part(path, data_end, meta)


def _shifted(fields: Fields, numbers: Sequence[int], shift: int) -> Fields:
    # 0 is an offset not given (writers leave the deprecated ColumnChunk.file_offset at 0): it stays 0.
    return {n: (k, v + shift if n in numbers and isinstance(v, int) and v else v) for n, (k, v) in fields.items()}


def _moved(group: Fields, shift: int, ordinal: int) -> Fields:
    """A row group whose bytes moved ``shift`` further into the file, as the ``ordinal``-th of the file."""
    moved = _shifted(group, (_RG_OFFSET,), shift)
    element, chunks = moved[_RG_COLUMNS][1]
    columns = []
    for chunk in chunks:
        column = _shifted(chunk, _CC_OFFSETS, shift)
        if _CC_META in column:
            column[_CC_META] = (STRUCT, _shifted(column[_CC_META][1], _CMD_OFFSETS, shift))
        columns.append(column)
    moved[_RG_COLUMNS] = (LIST, (element, columns))
    if _RG_ORDINAL in moved:
        moved[_RG_ORDINAL] = (I16, ordinal)
    return moved


def glue(parts: Sequence[Path], target: Path) -> int:
    """Write ``target``: the row groups of ``parts`` (Parquet files of one schema, written alike) in order, as one
    file whose footer is the first part's with every part's row groups. Returns the rows written."""
    if not parts:
        raise GlueError("nothing to join")
    read = [_read_part(p) for p in parts]
    first = read[0].meta
    for part in read[1:]:
        for number in (2, 5):  # the schema and the key-value metadata (Arrow's schema among them)
            if part.meta.get(number) != first.get(number):
                raise GlueError(f"{part.path}: its schema differs from {read[0].path}'s")
    groups: list[Fields] = []
    rows = 0
    with target.open("wb") as out:
        out.write(MAGIC)
        position = len(MAGIC)
        for part in read:
            shift = position - len(MAGIC)
            with part.path.open("rb") as f:
                f.seek(len(MAGIC))
                _copy(f, out, part.data_end - len(MAGIC))
            for group in part.meta[_ROW_GROUPS][1][1]:
                groups.append(_moved(group, shift, len(groups)))
            rows += int(part.meta[_NUM_ROWS][1])
            position += part.data_end - len(MAGIC)
        footer = dict(first)
        footer[_NUM_ROWS] = (I64, rows)
        footer[_ROW_GROUPS] = (LIST, (STRUCT, groups))
        encoded = encode(footer)
        out.write(encoded)
        out.write(len(encoded).to_bytes(4, "little"))
        out.write(MAGIC)
    return rows


def _copy(source: BinaryIO, target: BinaryIO, length: int) -> None:
    """``length`` bytes from the file ``source`` (at its position) to ``target``."""
    left = length
    while left > 0:
        chunk = source.read(min(left, 1 << 22))
        if not chunk:
            raise GlueError("a part ended before its footer said")
        target.write(chunk)
        left -= len(chunk)
