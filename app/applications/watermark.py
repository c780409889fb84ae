"""The faint "仅供政务服务预审使用" on the copy clerks see, as on paper ID copies."""

import functools
import io
import logging
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)
TEXT = "仅供政务服务预审使用"
# Common CJK fonts on Debian; without one the copy is served unmarked (the mark is optional).
FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
         "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
         "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


@functools.lru_cache(maxsize=4)
def _font_path(configured: str | None) -> str | None:
    for path in ((configured,) if configured else ()) + FONTS:
        if path and Path(path).exists():
            return path
    log.warning("no CJK font found: clerk copies are served without a watermark")
    return None


@functools.lru_cache(maxsize=8)
def _layer(width: int, height: int, path: str) -> Image.Image:
    """The tiled text for one image size, made once: photos share a handful of sizes."""
    size = max(18, width // 18)
    font = ImageFont.truetype(path, size)
    tile = Image.new("RGBA", (size * 11, size * 2), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((0, size // 2), TEXT, font=font, fill=(90, 90, 90, 56))
    tile = tile.rotate(30, expand=True)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    for y in range(0, height, tile.height // 2):
        for x in range(-(y // 2) % tile.width - tile.width, width, tile.width):
            layer.paste(tile, (x, y), tile)
    return layer


def mark(jpeg: bytes, font_path: str | None = None) -> bytes:
    """The same JPEG with the text tiled diagonally at low opacity; unchanged without a font."""
    path = _font_path(font_path)
    if path is None:
        return jpeg
    with Image.open(io.BytesIO(jpeg)) as src:
        base = src.convert("RGBA")
    out = Image.alpha_composite(base, _layer(base.width, base.height, path)).convert("RGB")
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=80)  # no exif= given: no metadata is written
    return buf.getvalue()
