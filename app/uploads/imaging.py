"""Photo checks and compression: pure functions on bytes, no Flask and no database.

`inspect_upload` runs in the web request and only reads; `compress` runs in the worker and makes the
two copies that are ever served. The original (with its EXIF and GPS) is never served, so bytes
hidden after a JPEG's end marker are harmless: neither the re-encode nor the kept copy (below)
carries them. A kept copy's scans are the uploader's own bytes, bounded in size.
"""

import functools
import io
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pillow_heif
from PIL import Image, ImageCms, ImageFile, JpegImagePlugin, UnidentifiedImageError

from app.uploads.jpeg_segments import without_metadata

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000
LONG_EDGE = 1600
THUMB_EDGE = 320
# On bench/images.py's document photos, quality 70 with 4:2:0 chroma gives a median 128 KB at
# SSIM 0.968 against a lossless LANCZOS resize; quality 80 gives 0.972 but 160 KB, over budget.
# The upload page's downscale sends this quality too (static/js/applications.js): re-encoding a
# quality-70 copy at 70 kept the same SSIM as re-encoding a quality-90 one (0.976 on the journey
# bench's photos), for half the bytes on the person's phone plan.
QUALITY = 70

MSG_EMPTY = "请选择照片"
MSG_FORMAT = "只能上传 JPG、PNG、WebP 或 HEIC 格式的照片"
MSG_PIXELS = "照片分辨率过大"
MSG_CORRUPT = "照片文件已损坏,请重新拍摄"

# Pillow's plugin ids; the JPEG plugin hands back multi-picture JPEGs (many phones) as "MPO".
OPEN_AS = ["JPEG", "PNG", "WEBP", "HEIF"]
FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}
# What a cut or damaged file of an accepted type starts with: such a file is corrupt, not foreign.
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# Whatever a decoder throws on bad input; ImageRejected (a ValueError) is re-raised before these.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, RuntimeError, IndexError, TypeError,
                 struct.error, zlib.error)
ORIENTATION = 0x0112
TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
             4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
             6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
             8: Image.Transpose.ROTATE_90}

# Once, at import: iPhone HEIC thumbnails, depth maps and auxiliary images are never used.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


class ImageRejected(ValueError):
    """An upload we refuse: `message` is shown to the citizen, `code` is for logs and tests."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ImageInfo:
    """What an accepted upload is: format, upright size in pixels, and bytes."""

    format: str
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class CompressedImage:
    """The served copy and its thumbnail, both metadata-free JPEG, and the copy's size."""

    image_bytes: bytes
    thumb_bytes: bytes
    width: int
    height: int


def inspect_upload(data: bytes, *, max_bytes: int = MAX_BYTES,
                   max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Accept only a whole JPEG, PNG, WebP or HEIC photo within the limits, else ImageRejected."""
    if not data:
        raise ImageRejected(MSG_EMPTY, "empty")
    if len(data) > max_bytes:
        raise ImageRejected(f"照片不能超过 {max_bytes / 1024 / 1024:g}MB", "too_large")
    with _opened(io.BytesIO(data), max_pixels) as im:
        kind = FORMATS[im.format]
        width, height = _upright_size(im)
        _check_whole(im, kind, data)
    return ImageInfo(kind, width, height, len(data))


def compress(src: bytes | Path, *, long_edge: int = LONG_EDGE, thumb_edge: int = THUMB_EDGE,
             quality: int = QUALITY, max_pixels: int = MAX_PIXELS) -> CompressedImage:
    """Decode near size, fit in long_edge, turn upright, drop all metadata, JPEG plus thumbnail.

    A JPEG already as we would keep it (what the upload page's own downscale sends) keeps its
    picture's bytes, without their metadata: see _kept_as_sent()."""
    with _source(src) as fp, _opened(fp, max_pixels) as im:
        if _kept_as_sent(im, long_edge, quality):
            fp.seek(0)
            kept = without_metadata(fp.read())
            if kept is not None and _within_budget(kept, im.size):
                return _with_thumbnail(kept, thumb_edge, quality, max_pixels)
        size = fit(im.size, long_edge)
        # JPEG only: libjpeg scales by 1/2, 1/4 or 1/8 while decoding, never below `size`; long
        # edges do not change under rotation, so the stored size is the one to aim at.
        drafted = im.draft("RGB", size)
        im.load()
        image = _resample_ready(im)
        if image.size != size:
            # After a 1/2 draft only a 1.25x step is left: BILINEAR does it in half LANCZOS's time
            # (27 against 53 ms) for 0.004 less SSIM, which text at this size does not show.
            box = drafted[1] if drafted else None
            image = image.resize(size, Image.Resampling.BILINEAR, box=box, reducing_gap=3.0)
        orientation = _orientation(im)
        if orientation in TRANSPOSE:  # turned once small, where a turn is cheap
            image = image.transpose(TRANSPOSE[orientation])
        # Still inside the block: a small photo that needed no resize is the opened image itself.
        image = _flatten(image)
        # reducing_gap 1.0: a box reduce by the whole factor (5 from 1600 px) does nearly all of
        # it; 1.3 against 7.8 ms for gap 2.0, at SSIM 0.988 against a full LANCZOS thumbnail.
        thumb = image.resize(fit(image.size, thumb_edge), Image.Resampling.LANCZOS,
                             reducing_gap=1.0)
        return CompressedImage(_jpeg(image, quality), _jpeg(thumb, quality), *image.size)


def _kept_as_sent(im: ImageFile.ImageFile, long_edge: int, quality: int) -> bool:
    """Whether a photo is already the copy we would make: a JPEG within long_edge, upright,
    4:2:0 (or grey), in sRGB (no colour profile, or one with sRGB's primaries, as Chromium's
    canvas writes), and quantised no finer than our writer at `quality`, table entry by table
    entry. The upload page's downscale sends just that (static/js/applications.js), and
    re-encoding it would only lose detail a second time, for ~75% of compress() (#19: 18.8
    against 4.4 ms a photo). Its scans are then kept as they are, without metadata
    (jpeg_segments), and only the thumbnail is decoded, at 1/4 scale."""
    if im.format not in ("JPEG", "MPO") or im.mode not in ("RGB", "L"):
        return False
    if fit(im.size, long_edge) != im.size or _orientation(im) != 1:
        return False
    if im.info.get("icc_profile") and not _srgb(im.info["icc_profile"]):
        return False  # its colours would change once the profile has gone
    if im.mode == "RGB" and JpegImagePlugin.get_sampling(im) != 2:  # 2: 4:2:0
        return False
    tables, ours = getattr(im, "quantization", None) or {}, _tables_at(quality)
    # Each component's own table (by its slot: im.layer), against ours for luma or chroma
    for index, (_, _, _, slot) in enumerate(im.layer):
        table, least = tables.get(slot), ours[min(index, 1)]
        if table is None or len(table) != len(least) or any(
                a < b for a, b in zip(table, least, strict=True)):
            return False
    return True


def _colorants(profile) -> tuple:
    """A profile's red, green and blue colorants (XYZ, D50), None for one it lacks."""
    return tuple(c[0] if c else None
                 for c in (profile.red_colorant, profile.green_colorant, profile.blue_colorant))


_SRGB = _colorants(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).profile)


@functools.lru_cache(maxsize=16)
def _srgb(icc: bytes) -> bool:
    """Whether an embedded RGB profile has sRGB's primaries, so the picture looks the same
    without it (0.04 ms; a phone's few profiles are read once)."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile
        found = _colorants(profile)
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError):
        return False
    if profile.xcolor_space.strip() != "RGB" or None in found:
        return False
    return all(abs(a - b) < 0.002 for colorant, srgb in zip(found, _SRGB, strict=True)
               for a, b in zip(colorant, srgb, strict=True))


@functools.cache
def _tables_at(quality: int) -> dict[int, tuple[int, ...]]:
    """The quantisation tables our JPEG writer uses at `quality` (0 luma, 1 chroma): an entry
    at least as large quantises at least as coarsely."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, "JPEG", quality=quality, subsampling="4:2:0")
    with Image.open(buf) as im:
        return {k: tuple(v) for k, v in im.quantization.items()}


def _within_budget(kept: bytes, size: tuple[int, int]) -> bool:
    """The kept scans are the uploader's bytes, and may hide more than the picture: keep them
    only within 2 bits a pixel (480 KB at 1600 x 1200; the page's quality-70 photos take 0.6 to
    1.2), else the re-encode makes the copy."""
    return len(kept) <= size[0] * size[1] // 4


def _with_thumbnail(kept: bytes, thumb_edge: int, quality: int,
                    max_pixels: int) -> CompressedImage:
    """The kept JPEG and its thumbnail, decoded at the smallest scale libjpeg allows (every
    scan is still read: kept bytes Pillow cannot decode fail here, as in the re-encode)."""
    with _opened(io.BytesIO(kept), max_pixels) as im:
        width, height = im.size
        size = fit(im.size, thumb_edge)
        im.draft(im.mode, size)
        im.load()
        # From a 1/4 draft, a 1.25x step: BILINEAR, as compress() does for the copy's own step
        thumb = im if im.size == size else im.resize(size, Image.Resampling.BILINEAR)
        return CompressedImage(kept, _jpeg(_flatten(thumb), quality), width, height)


def fit(size: tuple[int, int], long_edge: int) -> tuple[int, int]:
    """The size with the long side shrunk to long_edge, aspect kept; never larger than size."""
    width, height = size
    scale = long_edge / max(width, height)
    if scale >= 1:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


@contextmanager
def _source(src: bytes | Path) -> Iterator[BinaryIO]:
    """A file object on the bytes, or on the file itself so it is never read whole into memory."""
    if isinstance(src, Path):
        with src.open("rb") as fp:
            yield fp
    else:
        yield io.BytesIO(src)


@contextmanager
def _opened(fp: BinaryIO, max_pixels: int) -> Iterator[ImageFile.ImageFile]:
    """Open as an accepted format only, refuse bombs before any pixel is decoded."""
    try:
        # Local, because pytest and other callers reset global filters; should two threads race
        # here, the explicit max_pixels check below still holds.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(fp, formats=OPEN_AS)
    except UnidentifiedImageError:
        fp.seek(0)
        raise _unidentified(fp.read(32)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(MSG_PIXELS, "too_many_pixels") from None
    except DECODE_ERRORS as exc:
        raise ImageRejected(MSG_CORRUPT, "corrupt") from exc
    with im:
        if im.width * im.height > max_pixels:
            raise ImageRejected(MSG_PIXELS, "too_many_pixels")
        try:
            yield im
        except ImageRejected:
            raise
        except DECODE_ERRORS as exc:
            raise ImageRejected(MSG_CORRUPT, "corrupt") from exc


def _unidentified(head: bytes) -> ImageRejected:
    """A file no accepted decoder took: damaged if it starts like one of ours, else foreign."""
    ours = (head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"))
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
            or (head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS))
    if ours:
        return ImageRejected(MSG_CORRUPT, "corrupt")
    return ImageRejected(MSG_FORMAT, "format")


def _orientation(im: Image.Image) -> int:
    """The EXIF (or XMP) orientation, 1 when there is none."""
    return im.getexif().get(ORIENTATION, 1)


def _upright_size(im: Image.Image) -> tuple[int, int]:
    """Width and height as the photo is shown, after its orientation."""
    if im.format == "PNG" and "exif" not in im.info:
        return im.size  # Pillow would decode every pixel to look for an eXIf chunk after them
    if _orientation(im) in (5, 6, 7, 8):
        return im.height, im.width
    return im.size


def _check_whole(im: ImageFile.ImageFile, kind: str, data: bytes) -> None:
    """Refuse a cut or damaged file without decoding full-size pixels in the web request."""
    if kind == "jpeg":
        im.draft("L", (1, 1))  # 1/8 scale, luma only: every scan is still read
        im.load()
    elif kind == "png":
        im.verify()  # chunk checksums up to IEND
        _inflate_png(data)
    elif kind == "heic":
        _check_boxes(data)
    # WebP: opening it already demuxed the whole RIFF file, and a cut one does not open. A WebP or
    # HEIC sound in structure but bad inside fails in compress(), in the worker: decoding either
    # here would cost about 160 MB (WebP) or over a second (HEIC) for 12 MP.


def _inflate_png(data: bytes) -> None:
    """Inflate the IDAT stream in small steps and require its end, keeping no pixels."""
    inflater, view, pos = zlib.decompressobj(), memoryview(data), 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", view[pos:pos + 8])
        if kind == b"IEND":
            break
        if kind == b"IDAT":
            # 16 KB in, 64 KB out at a time: a bomb never expands at once, and the unconsumed
            # tail that zlib copies on every call stays small.
            body = view[pos + 8:pos + 8 + length]
            for start in range(0, length, 1 << 14):
                piece = body[start:start + (1 << 14)]
                while piece and not inflater.eof:
                    inflater.decompress(piece, 1 << 16)
                    piece = inflater.unconsumed_tail
        pos += 12 + length
    if not inflater.eof:
        raise ImageRejected(MSG_CORRUPT, "corrupt")


def _check_boxes(data: bytes) -> None:
    """Walk the top-level boxes of a HEIC file (ftyp, meta, mdat): a cut file ends inside one."""
    pos = 0
    while pos < len(data):
        size, header = int.from_bytes(data[pos:pos + 4]), 8
        if size == 1:  # a 64-bit size follows the type
            size, header = int.from_bytes(data[pos + 8:pos + 16]), 16
        elif size == 0:  # the last box, running to the end of the file
            return
        if size < header or pos + size > len(data):
            raise ImageRejected(MSG_CORRUPT, "corrupt")
        pos += size


def _resample_ready(im: Image.Image) -> Image.Image:
    """An 8-bit mode that resizes well: palettes and 1-bit expand, 16-bit grey scales down."""
    if im.mode.startswith("I"):
        return im.point(lambda v: v / 256).convert("L")  # convert alone would clip to white
    if "transparency" in im.info:  # a palette or colour-key transparency becomes an alpha band
        return im.convert("RGBA")
    if im.mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return im
    return im.convert("RGBA" if "A" in im.mode else "RGB")


def _flatten(im: Image.Image) -> Image.Image:
    """RGB on white, with no metadata at all: EXIF, GPS, XMP, ICC and comments are dropped."""
    if im.mode in ("RGBA", "LA"):
        rgba = im.convert("RGBA")
        out = Image.new("RGB", im.size, "white")
        out.paste(rgba, mask=rgba.getchannel("A"))
    else:
        out = im.convert("RGB") if im.mode != "RGB" else im
    # Pillow carries info through resize and convert, and its JPEG writer re-emits a comment.
    out.info = {}
    return out


def _jpeg(im: Image.Image, quality: int) -> bytes:
    """Baseline, Huffman-optimised JPEG bytes.

    Not progressive: on a 1600 px copy libjpeg's progressive scans took 32 ms against 11 ms for
    baseline, for the same size (122 against 121.5 KB), and that was half of compress(). A slow
    phone is not left with a blank viewer: the viewer shows the thumbnail at once and swaps in
    the copy when it has arrived (static/js/applications.js); the clerk's copy is re-encoded by
    watermark.mark() on every view anyway."""
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, subsampling="4:2:0", optimize=True)
    return buf.getvalue()
