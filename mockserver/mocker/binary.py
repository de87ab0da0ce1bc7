"""Binary bodies a client can open: where a response documents a file (an image, a PDF, bytes) and
gives no example, a frontend renders it, so a few random bytes labelled `image/png` would break its
`<img>` or PDF viewer. Each type the mock knows is a tiny valid file (PNG, GIF, BMP and SVG in a colour
drawn from the seed; JPEG and WebP fixed one-pixel images; a one-page PDF), anything else is
deterministic bytes within the schema's `minLength`/`maxLength`. Built without an imaging library:
the formats are a few bytes each."""

from __future__ import annotations

import base64
import random
import struct
import zlib
from collections.abc import Callable, Mapping
from typing import Any

# A 1x1 baseline JPEG (encoded once with Pillow) and a 1x1 lossless WebP (Modernizr's probe image).
_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1x"
    "eXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAAR"
    "CAABAAEDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAL/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAA"
    "Bf/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AKAMi3//2Q=="
)
_WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
DEFAULT_LENGTH = (16, 64)  # bytes, where the schema does not bound them


def _png(colour: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00" + colour)  # one scanline: filter 0, then the pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _gif(colour: bytes) -> bytes:
    screen = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + colour + b"\x00\x00\x00"  # 2-colour table
    image = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02D\x01\x00"  # one pixel of colour 0
    return screen + image + b";"


def _bmp(colour: bytes) -> bytes:
    pixel = colour[::-1] + b"\x00"  # blue, green, red; the row padded to 4 bytes
    info = struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, len(pixel), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info) + len(pixel), 0, 0, 14 + len(info)) + info + pixel


def _svg(colour: bytes) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1" viewBox="0 0 1 1">'
        f'<rect width="1" height="1" fill="#{colour.hex()}"/></svg>'
    ).encode()


def _pdf(_colour: bytes) -> bytes:
    """One empty A4 page; the cross-reference table's offsets are computed, as readers check them."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table)
    return bytes(out)


FILES: dict[str, Callable[[bytes], bytes]] = {
    "image/png": _png,
    "image/gif": _gif,
    "image/bmp": _bmp,
    "image/svg+xml": _svg,
    "image/jpeg": lambda _colour: _JPEG,
    "image/webp": lambda _colour: _WEBP,
    "application/pdf": _pdf,
}


def is_file(media_type: str, kind: str, schema: Any) -> bool:
    """Whether a body of this media type is a file made here rather than a value from its schema:
    binary kinds, and the known file types documented as a string (SVG is XML, but a file)."""
    if kind == "binary":
        return True
    plain = not isinstance(schema, Mapping) or schema.get("type") in (None, "string")
    return media_type in FILES and plain


def placeholder(media_type: str, schema: Any, seed: str) -> bytes:
    """A small valid file of `media_type`, the same for the same seed (serve --seed, and the entity)."""
    rng = random.Random(seed)
    make = FILES.get(media_type.split(";", 1)[0].strip().lower())
    if make is not None:
        return make(rng.randbytes(3))
    bounds = schema if isinstance(schema, Mapping) else {}
    high = _length(bounds.get("maxLength"), -1)
    low = _length(bounds.get("minLength"), DEFAULT_LENGTH[0] if high < 0 else min(DEFAULT_LENGTH[0], high))
    high = high if high >= 0 else max(low, DEFAULT_LENGTH[1])
    return rng.randbytes(rng.randint(low, max(low, high)))


def _length(value: Any, default: int) -> int:
    return min(value, 1 << 20) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
