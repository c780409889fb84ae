"""Shared makers for the applications tests: a valid ID number and documents with GPS."""

import io

from PIL import ExifTags, Image, ImageDraw

VALID_ID = "11010519491231002X"


def photo(width=1200, height=900, fmt="JPEG", gps=True) -> bytes:
    """A document-like photo with an orientation tag, a camera make and a GPS position."""
    image = Image.new("RGB", (width, height), (236, 232, 220))
    draw = ImageDraw.Draw(image)
    for y in range(40, height - 40, 36):
        draw.line([(60, y), (width - 60, y)], fill=(40, 40, 40), width=3)
    draw.ellipse([width - 300, height - 300, width - 80, height - 80], outline=(200, 0, 0), width=8)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "TestPhone"
    if gps:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = "N"
        info[ExifTags.GPS.GPSLatitude] = (46.0, 4.0, 30.0)
        info[ExifTags.GPS.GPSLongitudeRef] = "E"
        info[ExifTags.GPS.GPSLongitude] = (122.0, 3.0, 10.0)
    buf = io.BytesIO()
    image.save(buf, fmt, exif=exif.tobytes(), quality=90)
    return buf.getvalue()
