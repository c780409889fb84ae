"""Where photo files live: a small interface so that an object store can replace the disk.

Files sit under UPLOAD_DIR, outside static/, under random names; nothing serves that folder, so
a file is only ever reached through a view that checks who is asking.
"""

import os
import re
import secrets
from pathlib import Path
from typing import Protocol

from flask import current_app

KEY_RE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}$")


class Storage(Protocol):
    def save(self, data: bytes) -> str: ...

    def open(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files on the local disk, two-level fan-out so no folder grows huge."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY_RE.match(key):  # keys come from our rows, but never trust a path
            raise KeyError(key)
        return self.root / key

    def save(self, data: bytes) -> str:
        """Store bytes under a new random key and return the key."""
        name = secrets.token_hex(16)
        key = f"{name[:2]}/{name}"
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # a crash never leaves half a file under the real key
        return key

    def open(self, key: str) -> bytes:
        """The bytes stored under a key; FileNotFoundError when gone."""
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Remove a file; deleting a missing one is not an error (jobs run twice)."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()


def get_storage() -> LocalStorage:
    """The configured backend."""
    return LocalStorage(current_app.config["UPLOAD_DIR"])
