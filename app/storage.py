"""Where photo bytes live: a small key -> bytes store.

Keys are random and URL-safe (`new_key()`); the store never sees user-supplied file names.
`LocalPhotoStorage` keeps each object as a file under PHOTO_DIR, fanned out by the key's
first characters (root/ab/cd/<key>.jpg) so that no folder grows huge. An S3-compatible
backend can later implement the same five methods.
"""
from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask import current_app

__all__ = ["KEY_PATTERN", "LocalPhotoStorage", "get_storage", "init_app", "new_key"]

# URL-safe base64 alphabet only: no dots, slashes, backslashes or NULs, so no path tricks.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{4,128}")
SUFFIX = ".jpg"  # everything the pipeline stores is JPEG; the suffix lets send_file guess the type


def new_key() -> str:
    """A fresh random key: 32 URL-safe characters (192 random bits)."""
    return secrets.token_urlsafe(24)


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a valid storage key: {key!r}")
    return key


class LocalPhotoStorage:
    """Objects as files on the local disk, written atomically."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key[2:4] / f"{key}{SUFFIX}"

    def save(self, key: str, data: bytes) -> None:
        """Write all of `data` or nothing: a temp file in the same folder, fsync, then rename."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=SUFFIX)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a web server may need to read these
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(target.parent)

    def open(self, key: str) -> BinaryIO:
        """The stored bytes, for reading (the caller closes it). FileNotFoundError if unknown."""
        return open(self.path(key), "rb")

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); quietly skipped where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def init_app(app) -> None:
    root = Path(app.config["PHOTO_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    app.extensions["photo_storage"] = LocalPhotoStorage(root)


def get_storage() -> LocalPhotoStorage:
    return current_app.extensions["photo_storage"]
