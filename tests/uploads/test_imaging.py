"""Photo checks and compression: what is refused, and what the served copies keep (no metadata)."""

import io
import re
import struct
import warnings
import zlib
from pathlib import Path

import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from app.uploads.imaging import (
    LONG_EDGE,
    QUALITY,
    ImageInfo,
    ImageRejected,
    compress,
    inspect_upload,
)

# The texts citizens see, spelled out: a change to them should be a change to this test too.
MSG_EMPTY = "请选择照片"
MSG_FORMAT = "只能上传 JPG、PNG、WebP 或 HEIC 格式的照片"
MSG_PIXELS = "照片分辨率过大"
MSG_CORRUPT = "照片文件已损坏,请重新拍摄"

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
       b'syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="'
       b'ZHANG San"/></rdf:RDF></x:xmpmeta>')
COMMENT = b"owner: ZHANG San, 15004820001"
SAVE_AS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF"}


def camera_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it, GPS included."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Xiaomi"
    exif[ExifTags.Base.Model] = "Redmi Note 12"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (46.0, 4.0, 48.6)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (122.0, 4.0, 12.3)
    return exif


def encode(im: Image.Image, kind: str = "jpeg", **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, SAVE_AS[kind], **params)
    return buf.getvalue()


def scene(size: tuple[int, int] = (300, 400)) -> Image.Image:
    """A grey picture with a red block at its top-left corner, to tell which way is up."""
    im = Image.new("RGB", size, (128, 128, 128))
    im.paste((220, 20, 20), (0, 0, size[0] // 4, size[1] // 4))
    return im


def photo(size=(400, 300), kind="jpeg") -> bytes:
    """A small photo with the metadata a phone would attach."""
    params = {"exif": camera_exif().tobytes()}
    if kind in ("jpeg", "png", "webp"):
        params["xmp"] = XMP
    if kind == "jpeg":
        params["comment"] = COMMENT
    return encode(scene(size), kind, **params)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds no pixels: opening it allocates nothing."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def rejected(data: bytes, **limits) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        inspect_upload(data, **limits)
    return caught.value


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


# ---- accepted ----

@pytest.mark.parametrize("kind", ["jpeg", "png", "webp", "heic"])
def test_each_accepted_format_is_inspected_and_compressed(kind):
    data = photo(kind=kind)
    assert inspect_upload(data) == ImageInfo(kind, 400, 300, len(data))
    result = compress(data)
    assert (result.width, result.height) == (400, 300)
    assert decode(result.image_bytes).format == decode(result.thumb_bytes).format == "JPEG"


def test_a_multi_picture_jpeg_from_a_phone_counts_as_jpeg():
    buf = io.BytesIO()
    scene().save(buf, "MPO", save_all=True, append_images=[scene((150, 200))])
    assert inspect_upload(buf.getvalue()).format == "jpeg"
    assert compress(buf.getvalue()).width == 300


def test_junk_after_the_jpeg_end_is_accepted_and_never_copied():
    data = photo() + b"<script>alert(1)</script>"
    assert inspect_upload(data).format == "jpeg"
    result = compress(data)
    assert b"<script" not in result.image_bytes and b"<script" not in result.thumb_bytes


def test_compress_reads_a_path(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(photo((2000, 1000)))
    result = compress(path)
    assert (result.width, result.height) == (1600, 800)


# ---- refused ----

def test_empty_is_refused():
    error = rejected(b"")
    assert (error.code, error.message) == ("empty", MSG_EMPTY)


def test_over_the_size_limit_is_refused_before_any_decoding():
    error = rejected(b"\xff\xd8\xff" + bytes(10 * 1024 * 1024))
    assert (error.code, error.message) == ("too_large", "照片不能超过 10MB")


def test_the_size_message_follows_the_limit():
    data = photo((800, 600))
    assert rejected(data, max_bytes=len(data) - 1).code == "too_large"
    assert rejected(b"x" * (3 * 1024 * 1024), max_bytes=2 * 1024 * 1024).message == \
        "照片不能超过 2MB"
    assert inspect_upload(data, max_bytes=len(data)).size_bytes == len(data)


def _gif() -> bytes:
    buf = io.BytesIO()
    scene().save(buf, "GIF")
    return buf.getvalue()


def _tiff() -> bytes:
    buf = io.BytesIO()
    scene().save(buf, "TIFF")
    return buf.getvalue()


def _bmp() -> bytes:
    buf = io.BytesIO()
    scene().save(buf, "BMP")
    return buf.getvalue()


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>",
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>',
    b"#!/bin/sh\nrm -rf /\n",
    _gif(),
    _tiff(),
    _bmp(),
], ids=["pdf-renamed", "html", "svg", "script", "gif", "tiff", "bmp"])
def test_other_types_are_refused(data):
    error = rejected(data)
    assert (error.code, error.message) == ("format", MSG_FORMAT)
    with pytest.raises(ImageRejected):
        compress(data)


@pytest.mark.parametrize("kind, cut", [
    ("jpeg", 0.5), ("jpeg", 0.98), ("progressive", 0.6), ("png", 0.5), ("png", 0.99),
    ("webp", 0.5), ("webp", 0.99), ("heic", 0.6), ("heic", 0.99), ("jpeg", 0.001),
])
def test_a_cut_file_is_refused_as_damaged(kind, cut):
    noisy = Image.effect_noise((400, 300), 40).convert("RGB")  # noise: image data fills the file
    if kind == "progressive":
        data = encode(noisy, "jpeg", progressive=True)
    else:
        data = encode(noisy, kind)
    error = rejected(data[:max(3, int(len(data) * cut))])
    assert (error.code, error.message) == ("corrupt", MSG_CORRUPT)


def test_a_damaged_jpeg_fails_compression_too():
    data = photo((800, 600))
    with pytest.raises(ImageRejected) as caught:
        compress(data[: len(data) // 2])
    assert caught.value.code == "corrupt"


def test_png_image_data_that_does_not_inflate_is_refused():
    data = bytearray(encode(Image.effect_noise((300, 200), 40), "png"))
    start = data.index(b"IDAT") + 4
    end = start + struct.unpack(">I", data[start - 8:start - 4])[0]
    data[start + 10:end] = bytes(end - start - 10)  # zeroed deflate data, checksum made right
    data[end:end + 4] = struct.pack(">I", zlib.crc32(bytes(data[start - 4:end])))
    assert rejected(bytes(data)).code == "corrupt"


@pytest.mark.parametrize("width, height", [
    (20_000, 20_000),  # past Pillow's own hard limit (2 x 89.5 MP)
    (10_000, 10_000),  # in the band where Pillow only warns: that warning is an error here
    (8_000, 7_000),  # 56 MP: under Pillow's limits, over ours
], ids=["400mp", "100mp", "56mp"])
def test_a_decompression_bomb_is_refused_from_its_header(width, height):
    data = png_header(width, height)
    error = rejected(data)
    assert (error.code, error.message) == ("too_many_pixels", MSG_PIXELS)
    with pytest.raises(ImageRejected):
        compress(data)


def test_pillows_bomb_warning_is_an_error_even_under_a_higher_limit_of_ours():
    filters = list(warnings.filters)
    error = rejected(png_header(10_000, 10_000), max_pixels=10**9)
    assert error.code == "too_many_pixels"
    assert warnings.filters == filters  # made an error for that call only


def test_a_real_bomb_png_is_refused():
    buf = io.BytesIO()
    Image.new("1", (8000, 7000)).save(buf, "PNG")  # 56 MP in a few kilobytes
    assert rejected(buf.getvalue()).code == "too_many_pixels"


def test_the_pixel_limit_is_a_parameter():
    data = photo((400, 300))
    assert rejected(data, max_pixels=400 * 300 - 1).code == "too_many_pixels"
    assert inspect_upload(data, max_pixels=400 * 300).width == 400


# ---- the copies ----

@pytest.mark.parametrize("kind", ["jpeg", "png", "webp", "heic"])
def test_orientation_is_honoured(kind):
    upright = scene((300, 400))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a phone held upright stores it
    data = encode(stored, kind, exif=camera_exif(6).tobytes())
    assert (inspect_upload(data).width, inspect_upload(data).height) == (300, 400)
    result = compress(data)
    image, thumb = decode(result.image_bytes), decode(result.thumb_bytes)
    assert (result.width, result.height) == image.size == (300, 400)
    assert thumb.size == (240, 320)
    for im in (image, thumb):
        red, green, _ = im.getpixel((5, 5))
        assert red > 180 and green < 80  # the red block is top-left again
        assert im.getpixel((im.width - 5, im.height - 5))[0] < 160


# How a camera stores an upright scene for each EXIF orientation (the inverse of the fix).
STORED_AS = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
             4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
             6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
             8: Image.Transpose.ROTATE_270}


@pytest.mark.parametrize("orientation", sorted(STORED_AS))
def test_every_exif_orientation_comes_out_upright(orientation):
    upright = scene((300, 400))
    turn = STORED_AS[orientation]
    data = encode(upright if turn is None else upright.transpose(turn), "jpeg", quality=95,
                  exif=camera_exif(orientation).tobytes())
    image = decode(compress(data).image_bytes)
    assert image.size == (300, 400)
    assert image.getpixel((5, 5))[0] > 180 and image.getpixel((5, 5))[1] < 80
    assert image.getpixel((294, 5))[0] < 160 and image.getpixel((5, 394))[0] < 160


def _icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp", "heic"])
def test_no_metadata_survives(kind):
    params = {"exif": camera_exif(1).tobytes(), "icc_profile": _icc()}
    if kind != "heic":
        params["xmp"] = XMP
    if kind == "jpeg":
        params["comment"] = COMMENT
    if kind == "png":
        params["pnginfo"] = _png_text()
    data = encode(scene((2400, 1800)), kind, **params)
    result = compress(data)
    for out in (result.image_bytes, result.thumb_bytes):
        im = decode(out)
        assert not im.getexif()
        assert not {"exif", "xmp", "comment", "icc_profile"} & set(im.info)
        for needle in (b"Exif", b"Xiaomi", b"Redmi", b"ZHANG", b"xmpmeta", b"ns.adobe.com",
                       b"15004820001", b"ICC_PROFILE"):
            assert needle not in out


def _png_text() -> PngInfo:
    info = PngInfo()
    info.add_text("Author", "ZHANG San 15004820001")
    return info


def _jpeg_markers(data: bytes) -> list[tuple[int, bytes]]:
    """The segments before the scan: (marker, payload)."""
    found, pos = [], 2
    while pos < len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        found.append((marker, data[pos + 4:pos + 2 + length]))
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos += 2 + length
    return found


# libjpeg's standard luminance DC table (ITU T.81 K.3): code counts per length 1..16
STANDARD_DC_COUNTS = bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])


def test_copies_are_baseline_jpeg_with_optimised_tables():
    """Baseline (SOF0; progressive took three times as long to encode) with Huffman tables
    made for the picture, not the standard ones."""
    result = compress(photo((2000, 1500)))
    for data in (result.image_bytes, result.thumb_bytes):
        markers = _jpeg_markers(data)
        kinds = {m for m, _ in markers}
        assert 0xC0 in kinds and 0xC2 not in kinds
        dc_tables = [p[1:17] for m, p in markers if m == 0xC4 and p[0] == 0x00]
        assert dc_tables and STANDARD_DC_COUNTS not in dc_tables


@pytest.mark.parametrize("size, image, thumb", [
    ((4000, 3000), (1600, 1200), (320, 240)),  # a 12 MP phone photo, decoded at 1/2 scale
    ((3200, 2400), (1600, 1200), (320, 240)),  # exactly twice the target: the draft is the size
    ((1200, 3600), (533, 1600), (107, 320)),  # a long screenshot
    ((800, 600), (800, 600), (320, 240)),  # small: never enlarged
    ((200, 100), (200, 100), (200, 100)),  # tiny: the thumbnail is not enlarged either
])
def test_long_edges_are_1600_and_320_and_nothing_grows(size, image, thumb):
    result = compress(encode(scene(size), "jpeg", quality=90))
    assert (result.width, result.height) == decode(result.image_bytes).size == image
    assert decode(result.thumb_bytes).size == thumb


def test_the_long_edges_are_parameters():
    result = compress(photo((1000, 500)), long_edge=500, thumb_edge=100)
    assert (result.width, result.height) == (500, 250)
    assert decode(result.thumb_bytes).size == (100, 50)


def test_a_large_png_is_resized_too():
    result = compress(encode(scene((3000, 2000)), "png"))
    assert (result.width, result.height) == (1600, 1067)


def test_transparency_is_flattened_onto_white():
    im = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    im.paste((20, 20, 200, 255), (0, 0, 100, 100))
    result = compress(encode(im, "png"))
    out = decode(result.image_bytes)
    assert out.mode == "RGB"
    assert min(out.getpixel((190, 50))) > 245  # transparent became white, not black
    assert out.getpixel((20, 50))[2] > 180


def _palette_with_clear_index() -> Image.Image:
    im = Image.new("P", (100, 100), 0)
    im.putpalette([0, 255, 0, 230, 0, 0] + [0] * 762)
    im.paste(1, (0, 0, 50, 100))
    return im


@pytest.mark.parametrize("im, key", [
    (_palette_with_clear_index(), 0),
    (_palette_with_clear_index().convert("RGB"), (0, 255, 0)),
    (_palette_with_clear_index().convert("L"), 150),
], ids=["palette", "rgb-colour-key", "grey-colour-key"])
def test_a_transparent_colour_becomes_white(im, key):
    out = decode(compress(encode(im, "png", transparency=key)).image_bytes)
    assert min(out.getpixel((90, 50))) > 245  # the clear half is white, not green
    assert out.getpixel((10, 50))[1] < 120  # the opaque half keeps its colour


def test_a_16_bit_grey_png_keeps_its_tones():
    im = Image.new("I;16", (100, 100), 32768)
    out = decode(compress(encode(im, "png")).image_bytes)
    assert 120 <= out.getpixel((50, 50))[0] <= 136  # mid grey, not clipped to white


def test_a_cmyk_jpeg_comes_out_rgb():
    out = decode(compress(encode(Image.new("CMYK", (300, 200), (0, 255, 255, 0)))).image_bytes)
    red, green, blue = out.getpixel((150, 100))
    assert out.mode == "RGB" and red > 200 and green < 60 and blue < 60


def test_heic_is_written_by_pillow_heif_itself():
    heif = pillow_heif.from_pillow(scene((640, 480)))
    buf = io.BytesIO()
    heif.save(buf, quality=80)
    assert inspect_upload(buf.getvalue()).format == "heic"
    assert compress(buf.getvalue()).width == 640


def test_the_upload_page_downscales_to_the_size_and_quality_the_server_keeps():
    # More pixels than LONG_EDGE would cost the person data and the worker a resize for nothing;
    # a finer quality than QUALITY, twice the bytes for the same kept copy.
    script = (Path(__file__).resolve().parents[2] / "static/js/applications.js").read_text()
    assert re.search(r"var TARGET_EDGE = (\d+);", script).group(1) == str(LONG_EDGE)
    assert float(re.search(r"var QUALITY = ([0-9.]+);", script).group(1)) * 100 == QUALITY
    assert '"image/jpeg", QUALITY)' in script
