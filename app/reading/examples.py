"""示例图: a material's example photo, as admins upload it and as catalog files carry it.

An example is checked like any upload (type, size, decompression bombs), then kept as a
metadata-free JPEG of at most 960 px and a thumbnail; catalog files carry it as a data URI of
that JPEG, so an export imported again changes nothing.
"""

import base64
import binascii
import re

from app.uploads.imaging import ImageRejected, compress, inspect_upload
from app.uploads.storage import get_storage

LONG_EDGE, THUMB_EDGE = 960, 240  # small enough for one CSV cell (csv.field_size_limit)
MAX_BYTES = 10 * 1024 * 1024
DATA_URI = re.compile(r"^data:image/jpeg;base64,([A-Za-z0-9+/=\s]+)$")


class ExampleRejected(ValueError):
    """A file that cannot be an example photo; the message is for the admin."""


def check(data: bytes) -> None:
    """Refuse what no upload may be (the same checks as a citizen's photo)."""
    if not data:
        raise ExampleRejected("请选择示例图")
    try:
        inspect_upload(data, max_bytes=MAX_BYTES)
    except ImageRejected as exc:
        raise ExampleRejected(f"示例图:{exc.message}") from exc


def store(data: bytes) -> tuple[str, str]:
    """Keep an example: its image and thumbnail keys."""
    check(data)
    result = compress(data, long_edge=LONG_EDGE, thumb_edge=THUMB_EDGE)
    storage = get_storage()
    return storage.save(result.image_bytes), storage.save(result.thumb_bytes)


def replace(material, data: bytes | None, remove: bool = False) -> list[str]:
    """Give a material a new example (or none); the old keys, to delete after the commit."""
    if not data and not remove:
        return []
    old = [k for k in (material.example_key, material.example_thumb_key) if k]
    if data:
        material.example_key, material.example_thumb_key = store(data)
    else:
        material.example_key = material.example_thumb_key = None
    return old


def delete(keys: list[str]) -> None:
    storage = get_storage()
    for key in keys:
        storage.delete(key)


def to_uri(material) -> str | None:
    """The example as a catalog file carries it."""
    if not material.example_key:
        return None
    try:
        data = get_storage().open(material.example_key)
    except FileNotFoundError:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def from_uri(value: str) -> bytes:
    """The JPEG in a catalog file's data URI; ExampleRejected when it is not one."""
    match = DATA_URI.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ExampleRejected("示例图(example_photo) 应为 data:image/jpeg;base64,… 形式")
    try:
        data = base64.b64decode(re.sub(r"\s+", "", match.group(1)), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ExampleRejected("示例图(example_photo) 的 base64 内容已损坏") from exc
    check(data)
    return data


def import_into(material, value: str | None) -> list[str]:
    """Set a material's example from a catalog file; unchanged bytes keep the stored copy."""
    if not value:
        return []
    data = from_uri(value)
    if material.example_key:
        try:
            if get_storage().open(material.example_key) == data:
                return []
        except FileNotFoundError:
            pass
    return replace(material, data)
