"""A photo already as we keep it (the upload page's downscale: 1600 px, quality 70, 4:2:0) keeps
its picture's bytes, without metadata (app/uploads/jpeg_segments.py); anything else is
re-encoded as before. Both give the same served copies: upright, metadata-free JPEG, 1600/320."""

import io

import pytest
from PIL import Image, ImageChops, ImageStat
from PIL.ImageCms import ImageCmsProfile, createProfile
from uploads.test_imaging import COMMENT, XMP, _icc, _jpeg_markers, camera_exif, decode, scene

from app.uploads.imaging import QUALITY, compress
from app.uploads.jpeg_segments import BARE_JFIF, without_metadata


def wide_gamut(profile: bytes) -> bytes:
    """An RGB profile like sRGB but with Display P3's red (a wider gamut: phones' cameras)."""
    out = bytearray(profile)
    count = int.from_bytes(out[128:132], "big")
    for n in range(count):
        sig, offset = out[132 + 12 * n:136 + 12 * n], int.from_bytes(
            out[136 + 12 * n:140 + 12 * n], "big")
        if sig == b"rXYZ":  # 'XYZ ', 4 reserved bytes, then X, Y, Z as s15Fixed16
            for k, value in enumerate((0.5151, 0.2412, -0.0011)):
                out[offset + 8 + 4 * k:offset + 12 + 4 * k] = round(value * 65536).to_bytes(
                    4, "big", signed=True)
    return bytes(out)


OTHER_PROFILE = ImageCmsProfile(createProfile("LAB")).tobytes()
PRIVATE = (b"Exif", b"Xiaomi", b"Redmi", b"ZHANG", b"xmpmeta", b"15004820001", b"ICC_PROFILE")


def jpeg(size=(1600, 1200), mode="RGB", **params) -> bytes:
    params.setdefault("quality", QUALITY)
    buf = io.BytesIO()
    image = scene(size) if mode == "RGB" else scene(size).convert(mode)
    image.save(buf, "JPEG", **params)
    return buf.getvalue()


def scan_data(data: bytes) -> bytes:
    """Everything from the first scan on: the entropy-coded picture itself."""
    return data[data.index(b"\xff\xda"):data.rindex(b"\xff\xd9")]


def as_sent(**extra) -> bytes:
    """As the page sends it, plus what a camera might leave in a photo small enough to pass
    through the page untouched: EXIF with GPS, XMP, an ICC profile, a comment."""
    return jpeg(exif=camera_exif(1).tobytes(), xmp=XMP, icc_profile=_icc(), comment=COMMENT,
                **extra)


def segment(data: bytes, marker: int) -> tuple[int, int]:
    """Where the first segment with this marker starts and ends."""
    start = data.index(bytes([0xFF, marker]))
    return start, start + 2 + int.from_bytes(data[start + 2:start + 4], "big")


def with_frame_table_slots(data: bytes, slots: tuple[int, int, int]) -> bytes:
    """The same file with each component pointed at another quantisation table slot."""
    sof, _ = segment(data, 0xC0)
    out = bytearray(data)
    for n, slot in enumerate(slots):
        out[sof + 12 + 3 * n] = slot
    return bytes(out)


def with_rgb_names(data: bytes) -> bytes:
    """No JFIF header, and the components named R, G, B in the frame and the scan: libjpeg then
    reads the samples as RGB, not YCbCr."""
    app0, end = segment(data, 0xE0)
    out = bytearray(data[:app0] + data[end:])
    sof, _ = segment(bytes(out), 0xC0)
    sos, _ = segment(bytes(out), 0xDA)
    for n, name in enumerate(b"RGB"):
        out[sof + 10 + 3 * n] = name
        out[sos + 5 + 2 * n] = name
    return bytes(out)


@pytest.mark.parametrize("size, mode", [((1600, 1200), "RGB"), ((900, 1600), "RGB"),
                                        ((1200, 900), "L")])
def test_a_photo_as_the_page_sends_it_keeps_its_scans_and_loses_its_metadata(size, mode):
    data = jpeg(size, mode, exif=camera_exif(1).tobytes(), xmp=XMP, comment=COMMENT,
                **({"icc_profile": _icc()} if mode == "RGB" else {}))  # sRGB, as Chromium's
    result = compress(data)
    assert scan_data(result.image_bytes) == scan_data(data)  # not decoded and encoded again
    assert result.image_bytes.startswith(b"\xff\xd8" + BARE_JFIF)
    for needle in PRIVATE:
        assert needle not in result.image_bytes and needle not in result.thumb_bytes
    kept = decode(result.image_bytes)
    assert not kept.getexif() and not {"exif", "xmp", "comment", "icc_profile"} & set(kept.info)
    assert kept.size == size == (result.width, result.height) and kept.mode == mode
    assert ImageChops.difference(kept, decode(data)).getbbox() is None  # the same pixels
    thumb = decode(result.thumb_bytes)
    assert max(thumb.size) == 320 and thumb.format == "JPEG"


@pytest.mark.parametrize("params", [
    {"quality": QUALITY + 10},  # finer than ours: more bytes than the copy we would keep
    {"subsampling": "4:4:4"},  # full-size chroma: the same
    {"progressive": True},  # the kept copies are baseline
    {"exif": camera_exif(6).tobytes()},  # stored on its side: it must be turned
    # colour profiles other than sRGB: without them, the colours would move
    {"icc_profile": wide_gamut(_icc())}, {"icc_profile": OTHER_PROFILE},
    {"icc_profile": b"not a profile"},
    # a sum over the table coarser than ours, but finer in the first 16 entries
    {"qtables": [[1] * 16 + [255] * 48, [255] * 64]},
], ids=["finer", "444", "progressive", "turned", "wide-gamut", "lab-profile", "bad-profile",
        "finer-entries"])
def test_anything_else_is_decoded_and_encoded_again(params):
    data = jpeg(**params)
    result = compress(data)
    assert scan_data(result.image_bytes) != scan_data(data)
    markers = {marker for marker, _ in _jpeg_markers(result.image_bytes)}
    assert 0xC0 in markers and 0xC2 not in markers
    expected = (1200, 1600) if "exif" in params else (1600, 1200)
    assert decode(result.image_bytes).size == expected == (result.width, result.height)


@pytest.mark.parametrize("change", [
    # chroma read with the luma table (finer than our chroma's), luma with the chroma table: the
    # slots' own tables are ours, so only the components' use of them tells
    lambda d: with_frame_table_slots(d, (1, 0, 0)),
    # an Adobe segment (transform 1: YCbCr, so the picture reads the same)
    lambda d: d[:2] + b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x01" + d[2:],
    # 600 KB hidden before the end marker: inside the scan, over the kept copy's budget
    lambda d: d[:-2] + b"\x00" * 600_000 + b"\xff\xd9",
], ids=["swapped-slots", "adobe", "payload"])
def test_kept_bytes_it_cannot_vouch_for_are_encoded_again(change):
    data = change(jpeg())
    result = compress(data)
    assert scan_data(result.image_bytes) != scan_data(data)
    assert len(result.image_bytes) < 400_000
    assert decode(result.image_bytes).size == (1600, 1200)


def test_components_named_rgb_keep_their_colours():
    data = with_rgb_names(jpeg((800, 600)))
    assert without_metadata(data) is None  # a JFIF header would turn them into YCbCr
    before, after = decode(data).convert("RGB"), decode(compress(data).image_bytes)
    assert max(ImageStat.Stat(ImageChops.difference(before, after)).mean) < 4


def test_larger_than_the_kept_size_is_resized_as_before():
    result = compress(jpeg((2000, 1500)))
    assert (result.width, result.height) == (1600, 1200)


def test_only_the_first_picture_of_a_multi_picture_file_is_kept():
    buf = io.BytesIO()
    scene((800, 600)).save(buf, "MPO", save_all=True, quality=QUALITY,
                           append_images=[scene((150, 200))])
    data = buf.getvalue()
    assert b"MPF" in data
    result = compress(data + b"<script>alert(1)</script>")
    first = data[:data.index(b"\xff\xd9") + 2]
    assert scan_data(result.image_bytes) == scan_data(first)  # kept, not encoded again
    assert result.image_bytes.count(b"\xff\xd9") == 1
    assert b"<script" not in result.image_bytes and b"MPF" not in result.image_bytes
    assert decode(result.image_bytes).size == (800, 600)


# ---- the segment rewriter on its own ----

def test_metadata_segments_go_and_the_rest_is_copied_in_order():
    data = as_sent()
    out = without_metadata(data)
    kept = [marker for marker, _ in _jpeg_markers(out)]
    assert kept[0] == 0xE0 and 0xFE not in kept and not {0xE1, 0xE2} & set(kept)
    assert [m for m, _ in _jpeg_markers(data) if m in (0xDB, 0xC4, 0xC0, 0xDA)] == kept[1:]
    assert out.endswith(b"\xff\xd9")


def test_fill_bytes_between_header_segments_are_passed_over():
    data = jpeg()
    dqt, _ = segment(data, 0xDB)
    out = without_metadata(data[:dqt] + b"\xff\xff" + data[dqt:])
    assert ImageChops.difference(decode(out), decode(data)).getbbox() is None


def test_several_scans_with_tables_and_metadata_between_them():
    """A baseline file may send its components in separate scans, with Huffman tables (and,
    from some writers, APPn or comments) between them: tables stay, metadata goes."""
    data = jpeg((64, 48))
    sos, _ = segment(data, 0xDA)
    dht, dht_end = segment(data, 0xC4)
    between = data[dht:dht_end] + b"\xff\xfe\x00\x0715004" + b"\xff\xe1\x00\x06Exif"
    # the same scan twice, the second after a table and metadata: as a file, not a picture
    two = data[:-2] + between + data[sos:-2] + b"\xff\xd9"
    out = without_metadata(two)
    assert out.count(b"\xff\xda") == 2 and out.count(b"\xff\xc4") == data.count(b"\xff\xc4") + 1
    assert b"15004" not in out and b"Exif" not in out


def test_restart_markers_and_fill_bytes_stay_inside_the_scan():
    data = jpeg(restart_marker_blocks=4)
    assert b"\xff\xd0" in scan_data(data)
    filled = data[:-2] + b"\xff\xff\xff\xd9"  # fill bytes before the end marker are allowed
    out = without_metadata(filled)
    assert scan_data(out).startswith(scan_data(data))
    assert ImageChops.difference(decode(out), decode(data)).getbbox() is None


@pytest.mark.parametrize("damage", [
    lambda d: d[: len(d) // 2],  # cut in the scan: no end marker
    lambda d: d[:40],  # cut in a header segment
    lambda d: b"\x89PNG" + d[4:],  # not a JPEG
    lambda d: d.replace(b"\xff\xc0", b"\xff\xc9", 1),  # arithmetic-coded: browsers do not show it
    lambda d: d.replace(b"\xff\xc0", b"\xff\xc2", 1),  # progressive
    lambda d: d[:2] + b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00" + d[2:],  # transform
    lambda d: d[:2] + b"\xff\xdc\x00\x04\x00\x10" + d[2:],  # DNL: a marker it does not copy or drop
    lambda d: d[:2] + b"\x00" + d[2:],  # a byte where a marker should be
    lambda d: d[:-2] + d[slice(*segment(d, 0xDB))] + b"\xff\xd9",  # new tables after the scan
], ids=["cut-scan", "cut-header", "not-jpeg", "arithmetic", "progressive", "adobe", "dnl", "junk",
        "late-tables"])
def test_what_it_does_not_know_is_left_to_the_re_encode(damage):
    assert without_metadata(jpeg()) is not None
    assert without_metadata(damage(jpeg())) is None


def test_a_frame_of_twelve_bit_samples_is_left_to_the_re_encode():
    data = jpeg()
    sof = data.index(b"\xff\xc0")
    assert data[sof + 4] == 8
    assert without_metadata(data[:sof + 4] + b"\x0c" + data[sof + 5:]) is None


@pytest.mark.parametrize("length", [2, 8, 10])
def test_a_frame_shorter_than_one_component_is_left_to_the_re_encode(length):
    data = jpeg()
    sof, _ = segment(data, 0xC0)
    short = data[:sof + 2] + length.to_bytes(2, "big") + data[sof + 4:sof + 2 + length]
    assert without_metadata(short) is None  # ends there: nothing read past the file
    assert without_metadata(short + data[sof + 2 + length:]) is None


def test_a_scan_before_any_frame_or_a_second_frame_is_left_to_the_re_encode():
    data = jpeg()
    sof = data.index(b"\xff\xc0")
    length = int.from_bytes(data[sof + 2:sof + 4], "big")
    frame = data[sof:sof + 2 + length]
    assert without_metadata(data[:sof] + data[sof + 2 + length:]) is None  # no frame
    assert without_metadata(data[:sof] + frame + frame + data[sof + 2 + length:]) is None


def test_the_rewritten_file_reads_as_a_plain_baseline_jfif():
    im = Image.open(io.BytesIO(without_metadata(as_sent())))
    assert im.format == "JPEG" and im.info.get("jfif") and not im.info.get("progressive")
    assert not im.getexif() and "icc_profile" not in im.info
