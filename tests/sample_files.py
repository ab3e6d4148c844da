"""Files people send, built in the test: pictures (Pillow), PDFs written by hand (the
standard Helvetica font, so any reader extracts the text), and hostile ones."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def photo_like(width: int, height: int) -> bytes:
    """A JPEG with camera-like noise (a flat colour would compress to almost nothing)."""
    out = io.BytesIO()
    noise = Image.effect_noise((width, height), 40)
    Image.merge("RGB", (noise, noise.rotate(90, expand=False), noise)).save(out, "JPEG", quality=90)
    return out.getvalue()


def picture(width: int = 2000, height: int = 1500, fmt: str = "PNG", mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (200, 30, 30) if mode == "RGB" else None).save(out, fmt)
    return out.getvalue()


def pixel_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A tiny PNG whose header declares billions of pixels (decoding it would need GBs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def _deflated(head: bytes, pad: int) -> bytes:
    """``head`` and ``pad`` spaces, compressed a megabyte at a time (never held whole)."""
    packer = zlib.compressobj(9)
    parts = [packer.compress(head)]
    block = b" " * 2**20
    for start in range(0, pad, len(block)):
        parts.append(packer.compress(block[: min(len(block), pad - start)]))
    parts.append(packer.flush())
    return b"".join(parts)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(pages: list[str], *, compress_pad: int = 0) -> bytes:
    """A PDF with one text line per page ("" makes a page with no text, like a scan).
    ``compress_pad`` appends that many bytes of spaces to each page's content stream,
    Flate-compressed: a few kB on disk that inflate to ``compress_pad`` bytes (a bomb)."""
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: pages (filled in below)
    font = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids = []
    for text in pages:
        stream = (f"BT /F1 12 Tf 72 720 Td ({_escape(text)}) Tj ET" if text else "").encode()
        if compress_pad:
            data = _deflated(stream, compress_pad)
            content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data)
        else:
            data = stream
            content = b"<< /Length %d >>\nstream\n" % len(data)
        objects.append(content + data + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_id, font)
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    refs = b" ".join(b"%d 0 R" % k for k in kids)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()
