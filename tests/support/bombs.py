"""Zip bombs for tests and the fault benchmark: megabytes on disk, gigabytes when inflated.

Built without inflating anything: one mebibyte of zeros deflated once, ending in a full flush (so
every copy of it continues the stream the same way), repeated; the archive's headers are written
here, so the declared sizes can be the truth or a lie. The CRC is not computed (it would cost a
pass over the inflated size): a reader that got that far has already lost.
"""

from __future__ import annotations

import struct
import zlib

MIB = 1024 * 1024


def _deflated_zeros(mebibytes: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(b"\0" * MIB) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * mebibytes + compressor.flush(zlib.Z_FINISH)


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip archive of (name, raw deflated bytes, declared size, crc) members."""
    body = bytearray()
    central = bytearray()
    for name, raw, declared, crc in members:
        encoded = name.encode()
        offset = len(body)
        body += struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(raw), declared, len(encoded), 0
        )
        body += encoded + raw
        central += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            0,
            8,
            0,
            0x21,
            crc,
            len(raw),
            declared,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(body), 0)
    return bytes(body + central + end)


def docx_bomb(inflated_mebibytes: int, declared_bytes: int | None = None) -> bytes:
    """A .docx whose word/document.xml inflates to `inflated_mebibytes` MiB of zeros.

    `declared_bytes` is what its headers claim (default: the truth).
    """
    content_types = (
        b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
    )
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    raw_types = compressor.compress(content_types) + compressor.flush()
    inflated = inflated_mebibytes * MIB
    return _zip(
        [
            ("[Content_Types].xml", raw_types, len(content_types), zlib.crc32(content_types)),
            ("word/document.xml", _deflated_zeros(inflated_mebibytes), declared_bytes or inflated, 0),
        ]
    )
