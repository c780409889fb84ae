#!/usr/bin/env python3
"""Copy the photo store to and from a tar file: the photo half of scripts/backup.sh and restore.sh.

The store is the one the app uses, from the same environment variables: PHOTO_STORAGE=local
(UPLOAD_DIR) or PHOTO_STORAGE=s3 (S3_BUCKET, S3_ENDPOINT_URL, S3_ACCESS_KEY_ID, ...). Members of
the tar file are the stored keys (`ab/ab12...`), so a restore puts every photo back under the key
its database row holds, whichever kind of store it goes into.

    photo_store.py export photos.tar   every photo into a new tar file; prints the count
    photo_store.py import photos.tar   every photo of the tar file into the store; prints the count
    photo_store.py count               how many photos the store holds
"""

import argparse
import io
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import _storage_settings, storage_problems  # noqa: E402
from app.uploads.storage import KEY_RE, LocalStorage, StorageUnavailable, s3_storage  # noqa: E402


def store_from_env():
    import os

    config = {**_storage_settings(), "UPLOAD_DIR": os.environ.get("UPLOAD_DIR")}
    problems = storage_problems(config)
    if problems:
        raise SystemExit("photo store settings: " + "; ".join(problems))
    if config["PHOTO_STORAGE"] == "s3":
        return s3_storage(config)
    return LocalStorage(config["UPLOAD_DIR"])


def export(store, path: Path) -> int:
    """Write every photo into a new tar file (written beside, then renamed: never half a file)."""
    if isinstance(store, LocalStorage) and not store.root.is_dir():
        raise SystemExit(f"UPLOAD_DIR {store.root} is not a folder: refusing an empty backup")
    tmp, count, now = path.with_name(path.name + ".part"), 0, time.time()
    with tarfile.open(tmp, "w") as tar:  # JPEGs do not compress: no gzip
        for key in store.keys():
            try:
                data = store.open(key)
            except FileNotFoundError:
                continue  # deleted since the listing (removed or purged): nothing to keep
            info = tarfile.TarInfo(key)
            info.size, info.mtime, info.mode = len(data), int(now), 0o600
            tar.addfile(info, io.BytesIO(data))
            count += 1
    tmp.replace(path)
    return count


def import_(store, path: Path) -> int:
    """Put every photo of a tar file into the store under its own key."""
    count = 0
    with tarfile.open(path, "r") as tar:
        for member in tar:
            if not member.isfile():
                continue
            if not KEY_RE.match(member.name):
                raise SystemExit(f"not a photo key, refusing the archive: {member.name!r}")
            store.put(member.name, tar.extractfile(member).read())
            count += 1
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["export", "import", "count"])
    parser.add_argument("file", nargs="?", type=Path)
    args = parser.parse_args(argv)
    store = store_from_env()
    if args.command == "count":
        print(sum(1 for _ in store.keys()))
    elif args.file is None:
        parser.error(f"{args.command} needs a tar file")
    elif args.command == "export":
        print(export(store, args.file))
    else:
        print(import_(store, args.file))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except StorageUnavailable as exc:
        sys.exit(f"photo store unavailable: {exc} (check S3_ENDPOINT_URL, S3_BUCKET and the keys)")
