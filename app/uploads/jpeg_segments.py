"""A baseline JPEG without its metadata, rewritten segment by segment: the picture's own bytes
(quantisation and Huffman tables, frame, scans) are copied as they are, nothing is decoded.

What is dropped: every APPn segment (JFIF and its thumbnail, EXIF with GPS, XMP, ICC, MPF, IPTC),
comments, and anything after the end marker (a multi-picture file's other pictures, or
bytes hidden there). A fresh, bare JFIF header takes the place of the first. The scans are the
uploader's own bytes: whatever they hid inside them stays (the caller bounds their size, and
serves them as image/jpeg only).

None, and the caller re-encodes the pixels, for anything this module does not know, a file cut
short, quantisation tables redefined after a scan (the caller checked the first ones), and what
would change the colours once the metadata has gone: an Adobe segment (its transform says how
the samples are read) or components named R, G, B (read as RGB without a JFIF header, and as
YCbCr with one).
"""

import re

EOI, SOS = 0xD9, 0xDA
# Baseline and extended sequential Huffman frames. Progressive ones give None, as the copies
# compress() writes are baseline too; lossless, hierarchical and arithmetic-coded ones (which
# browsers do not show) as well.
SEQUENTIAL_FRAMES = {0xC0, 0xC1}
# Tables (DQT, DHT), the restart interval (DRI) and the scans, copied as they are
DQT = 0xDB
TABLES = {DQT, 0xC4, 0xDD}
APP_FIRST, APP_LAST, ADOBE, COMMENT = 0xE0, 0xEF, 0xEE, 0xFE
COPIED = SEQUENTIAL_FRAMES | TABLES | {SOS}
# In a scan's data, 0xFF followed by anything but 00 (stuffing), D0-D7 (restarts) or FF (fill)
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# APP0 "JFIF" 1.01, no density, no thumbnail: 18 bytes that say nothing of the person or phone
BARE_JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def without_metadata(data: bytes) -> bytes | None:
    """The JPEG `data` with only what draws the picture, or None (see the module's doc)."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out, pos, framed, scanned = [b"\xff\xd8", BARE_JFIF], 2, False, False
    while pos + 2 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte before a marker
            pos += 1
            continue
        if marker == EOI:
            return b"".join(out) + b"\xff\xd9" if framed else None
        if ((marker == SOS and not framed) or (marker in SEQUENTIAL_FRAMES and framed)
                or (marker == DQT and scanned)):
            return None  # a scan before its frame, a second frame, or new tables between scans
        end = _segment_end(data, pos, marker)
        if end is None:
            return None
        framed, scanned = framed or marker in SEQUENTIAL_FRAMES, scanned or marker == SOS
        if marker in COPIED:
            out.append(data[pos:end])
        pos = end
    return None  # no end marker (a file cut short), or bytes where a marker should be


def _segment_end(data: bytes, pos: int, marker: int) -> int | None:
    """Where the segment at `pos` ends (a scan: with its entropy-coded data), or None for a
    segment cut short or of a kind this module does not copy or drop."""
    known = (marker in COPIED or (APP_FIRST <= marker <= APP_LAST and marker != ADOBE)
             or marker == COMMENT)
    if not known or pos + 4 > len(data):
        return None
    end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    if end > len(data) or end < pos + 4:
        return None
    if marker in SEQUENTIAL_FRAMES and (end < pos + 13 or data[pos + 4] != 8
                                        or _named_rgb(data, pos)):
        return None  # a whole frame of one component or more, 8-bit samples, not R, G, B
    return _scan_end(data, end) if marker == SOS else end


def _named_rgb(data: bytes, pos: int) -> bool:
    """Whether the frame at `pos` has three components with the ids "R", "G", "B" (libjpeg reads
    those as RGB when there is no JFIF or Adobe segment)."""
    return data[pos + 9] == 3 and bytes(data[pos + 10:pos + 19:3]) == b"RGB"


def _scan_end(data: bytes, pos: int) -> int | None:
    """Where a scan's entropy-coded data, starting at `pos`, ends: at the first marker that is
    neither a stuffed 0xFF (FF 00) nor a restart (FF D0-D7); fill bytes (FF FF) before it stay
    with the data. None when the file ends first."""
    found = _NEXT_MARKER.search(data, pos)
    return found.start() if found else None
