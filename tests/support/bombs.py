"""Zip bombs for tests and the fault benchmark: megabytes on disk, gigabytes when inflated.

Built without inflating anything: one mebibyte of whitespace deflated once, ending in a full flush
(so every copy of it continues the stream the same way), repeated; the archive's headers are
written here, so the declared sizes can be the truth or a lie. Above 64 MiB the CRC is not
computed (it would cost a pass over the inflated size): a reader that checks it has already read
everything by then.
"""

from __future__ import annotations

import struct
import zlib

MIB = 1024 * 1024
_CRC_LIMIT_MIB = 64  # below this the CRC is computed, so the file is a valid DOCX through and through

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="word/document.xml"/></Relationships>'
)
_DOCUMENT_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    b"<w:p><w:r><w:t>Users must log in.</w:t></w:r></w:p>"
)
_DOCUMENT_TAIL = b"</w:body></w:document>"


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _padded_document(mebibytes: int) -> tuple[bytes, int, int]:
    """word/document.xml deflated: a paragraph, then `mebibytes` MiB of whitespace; (raw, size, crc)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = compressor.compress(_DOCUMENT_HEAD) + compressor.flush(zlib.Z_FULL_FLUSH)
    padding = b" " * MIB
    # After a full flush the compressor starts afresh, so every further mebibyte deflates the same.
    block = compressor.compress(padding) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(_DOCUMENT_TAIL) + compressor.flush(zlib.Z_FINISH)
    size = len(_DOCUMENT_HEAD) + mebibytes * MIB + len(_DOCUMENT_TAIL)
    crc = 0
    if mebibytes <= _CRC_LIMIT_MIB:
        crc = zlib.crc32(_DOCUMENT_HEAD)
        for _ in range(mebibytes):
            crc = zlib.crc32(padding, crc)
        crc = zlib.crc32(_DOCUMENT_TAIL, crc)
    return head + block * mebibytes + tail, size, crc


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
    """A .docx (content types, relationships, document) whose document.xml inflates to about
    `inflated_mebibytes` MiB: one paragraph, then whitespace. python-docx opens it and reads the
    whole part into memory. `declared_bytes` is what its headers claim (default: the truth).
    """
    document, size, crc = _padded_document(inflated_mebibytes)
    return _zip(
        [
            (
                "[Content_Types].xml",
                _deflate(_CONTENT_TYPES),
                len(_CONTENT_TYPES),
                zlib.crc32(_CONTENT_TYPES),
            ),
            ("_rels/.rels", _deflate(_RELS), len(_RELS), zlib.crc32(_RELS)),
            ("word/document.xml", document, declared_bytes or size, crc),
        ]
    )
