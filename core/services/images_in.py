"""Pictures sent to the bot, made ready for a vision model with Pillow: read (a corrupt or
truncated file is refused), checked against a pixel bomb before decoding, shrunk to fit
``image_max_side`` on the longer side, and re-encoded (JPEG, or PNG when it has
transparency). Blocking: call it through ``asyncio.to_thread``."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import BadImage
from core.types import ImagePart

# Decoding is what costs memory (width × height × 4 bytes): a 20-kB PNG can declare
# 50,000 × 50,000 pixels. 40 megapixels is beyond any phone camera.
MAX_PIXELS = 40_000_000
JPEG_QUALITY = 85


def downscale(data: bytes, max_side: int) -> ImagePart:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise BadImage()
                # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale directly (never below
                # max_side): a 12-MP photo then takes a third of the time (bench/files.py).
                opened.draft("RGB", (max_side, max_side))
                opened.load()
                picture = ImageOps.exif_transpose(opened)
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,  # some truncated headers
        ValueError,
    ) as exc:
        raise BadImage() from exc
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    keeps_alpha = picture.mode in ("RGBA", "LA") or "transparency" in picture.info
    out = io.BytesIO()
    if keeps_alpha:
        picture.convert("RGBA").save(out, format="PNG", optimize=True)
        mime = "image/png"
    else:
        picture.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY)
        mime = "image/jpeg"
    return ImagePart(out.getvalue(), mime, picture.width, picture.height)
