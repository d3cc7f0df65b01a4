"""Photos sent with a reflection: images only, within a size limit, metadata stripped.

A photo is decoded and re-encoded from its pixels, so that nothing of the original file
survives but the picture: no EXIF (camera, time, GPS position), no comments, no embedded
thumbnails or profiles. The EXIF orientation is applied first so that the picture still stands
the right way up. Anything Pillow cannot decode as JPEG, PNG or WebP is refused.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
MAX_SIDE = 2560  # larger pictures are scaled down: enough for staff to read a notice


class PhotoError(ValueError):
    """Why a photo was refused: "size", "format" or "unreadable"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    content: bytes
    mime_type: str
    width: int
    height: int


def clean_photo(data: bytes, max_bytes: int) -> CleanPhoto:
    """The re-encoded photo, or ``PhotoError`` saying why it is refused."""
    if len(data) > max_bytes:
        raise PhotoError("size")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format or ""
                if kind not in ACCEPTED_FORMATS:
                    raise PhotoError("format")
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoError("size")
                probe.load()
                image = ImageOps.exif_transpose(probe)
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombWarning) as exc:
        raise PhotoError("unreadable") from exc
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    # ``info`` carries what the file held besides pixels (EXIF, ICC profile, text chunks,
    # comments), and savers may write it back: the copy saved starts with none of it.
    if kind == "PNG":
        clean = image.copy()
        clean.info = {}
        clean.save(out, format="PNG", optimize=True)
        mime = "image/png"
    else:
        clean = image.convert("RGB")
        clean.info = {}
        clean.save(out, format="JPEG", quality=85)
        mime = "image/jpeg"
    content = out.getvalue()
    if len(content) > max_bytes:
        raise PhotoError("size")
    return CleanPhoto(content, mime, image.width, image.height)
