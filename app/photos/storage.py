"""Where photo bytes live: a small key -> bytes store.

Keys are random and URL-safe (`new_key()`); the store never sees user-supplied file names.
`LocalPhotoStorage` keeps each object as a file under PHOTO_DIR, fanned out by the key's
first characters (root/ab/cd/<key>.jpg) so that no folder grows huge. `S3PhotoStorage` keeps
them in an S3-compatible bucket (AWS S3, MinIO, Ceph, …) so that several app hosts share them.

The contract both keep: `save(key, data)` stores all of `data` or nothing; `open(key)` gives a
binary file to read (FileNotFoundError if unknown); `delete(key)` is quiet for an unknown key;
`exists(key)`; a key not matching KEY_PATTERN is refused with ValueError before anything is
touched; any other failure of the store is an OSError.

Chosen by config: PHOTO_STORAGE=local (default; PHOTO_DIR) or PHOTO_STORAGE=s3 (S3_BUCKET,
optional S3_ENDPOINT_URL, S3_REGION, S3_PREFIX; credentials from S3_ACCESS_KEY_ID /
S3_SECRET_ACCESS_KEY or boto3's usual chain: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, …).
"""
from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from flask import current_app

from ..config import ConfigError

__all__ = ["KEY_PATTERN", "LocalPhotoStorage", "PhotoStorage", "S3PhotoStorage", "StorageError", "fsync_dir",
           "get_storage", "init_app", "new_key"]

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


class StorageError(OSError):
    """The object store failed (unreachable, refused, …): an OSError like a failing disk."""


class PhotoStorage(Protocol):
    def save(self, key: str, data: bytes) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def stored(self) -> Iterator[tuple[str, datetime]]: ...
    def delete_leftover(self, name: str) -> None: ...


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
        fsync_dir(target.parent)

    def open(self, key: str) -> BinaryIO:
        """The stored bytes, for reading (the caller closes it). FileNotFoundError if unknown."""
        return open(self.path(key), "rb")

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def stored(self) -> Iterator[tuple[str, datetime]]:
        """Every stored key with when it was written (the sweep's list), and the leftovers of a write that
        was cut off (".tmp-…": a process killed mid-save), named by their file name."""
        for path in self.root.glob("*/*/*"):
            try:
                written = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
            except FileNotFoundError:
                continue  # deleted meanwhile
            yield path.name.removesuffix(SUFFIX), written

    def delete_leftover(self, name: str) -> None:
        """Remove a cut-off write's temp file (a name `stored()` gave that is no key)."""
        if name.startswith(".tmp-") and "/" not in name:
            for path in self.root.glob(f"*/*/{name}{SUFFIX}"):
                path.unlink(missing_ok=True)


def fsync_dir(folder: Path) -> None:
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


class S3PhotoStorage:
    """Objects in an S3-compatible bucket, as <prefix><key>.jpg.

    A PUT is atomic in S3 (the object appears whole or not at all), and boto3 sends a checksum
    of the body that the server verifies. The boto3 client is made lazily, once per process:
    gunicorn may fork workers after the app is built and a client must not cross a fork.
    """

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, access_key_id: str | None = None,
                 secret_access_key: str | None = None) -> None:
        if not bucket:
            raise ValueError("S3PhotoStorage needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix
        self._client_args: dict[str, Any] = {"endpoint_url": endpoint_url or None, "region_name": region or None}
        if access_key_id or secret_access_key:
            self._client_args.update(aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key)
        self._client = None
        self._client_pid: int | None = None
        self._lock = threading.Lock()

    @property
    def client(self):  # noqa: ANN201 - a botocore client
        if self._client is None or self._client_pid != os.getpid():
            with self._lock:
                if self._client is None or self._client_pid != os.getpid():
                    import boto3
                    from botocore.config import Config

                    config = Config(connect_timeout=5, read_timeout=30,
                                    retries={"mode": "standard", "max_attempts": 3},
                                    max_pool_connections=20)
                    self._client = boto3.session.Session().client("s3", config=config, **self._client_args)
                    self._client_pid = os.getpid()
        return self._client

    def object_name(self, key: str) -> str:
        return f"{self.prefix}{check_key(key)}{SUFFIX}"

    def save(self, key: str, data: bytes) -> None:
        name = self.object_name(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(data), ContentType="image/jpeg")
        except _boto_errors() as exc:
            raise StorageError(f"could not store photo object {name}: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        """The whole object in memory (photos are a few hundred KB at most): the connection goes
        back to the pool at once and the response gets a Content-Length."""
        name = self.object_name(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=name)
            with response["Body"] as body:
                return io.BytesIO(body.read())
        except _boto_errors() as exc:
            if _not_found(exc):
                raise FileNotFoundError(f"no photo object {name}") from None
            raise StorageError(f"could not read photo object {name}: {exc}") from exc

    def delete(self, key: str) -> None:
        name = self.object_name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)  # no error for an unknown key
        except _boto_errors() as exc:
            if not _not_found(exc):
                raise StorageError(f"could not delete photo object {name}: {exc}") from exc

    def exists(self, key: str) -> bool:
        name = self.object_name(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except _boto_errors() as exc:
            if _not_found(exc):
                return False
            raise StorageError(f"could not look up photo object {name}: {exc}") from exc
        return True

    def stored(self) -> Iterator[tuple[str, datetime]]:
        """Every stored key with when it was written (the sweep's list)."""
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(self.prefix):].removesuffix(SUFFIX)
                    if KEY_PATTERN.fullmatch(name):
                        yield name, obj["LastModified"]
        except _boto_errors() as exc:
            raise StorageError(f"could not list photo objects: {exc}") from exc

    def delete_leftover(self, name: str) -> None:
        """S3 has no cut-off writes (a PUT appears whole or not at all)."""


def _boto_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _not_found(exc: BaseException) -> bool:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("NoSuchKey", "404", "NotFound") or (status == 404 and code != "NoSuchBucket")


STORAGE_KINDS = ("local", "s3")


def storage_from_config(config) -> PhotoStorage:  # noqa: ANN001 - a mapping (app.config)
    """The storage the config asks for; ConfigError for an unknown kind or a missing bucket."""
    kind = str(config.get("PHOTO_STORAGE") or "local").strip().lower()
    if kind not in STORAGE_KINDS:
        raise ConfigError(f"PHOTO_STORAGE {kind!r} is unknown; use 'local' (PHOTO_DIR) or 's3' (S3_BUCKET)")
    if kind == "s3":
        if not config.get("S3_BUCKET"):
            raise ConfigError("PHOTO_STORAGE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL for a store other than AWS)")
        return S3PhotoStorage(
            config["S3_BUCKET"],
            prefix=config.get("S3_PREFIX") or "",
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
        )
    root = Path(config["PHOTO_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return LocalPhotoStorage(root)


def init_app(app) -> None:
    app.extensions["photo_storage"] = storage_from_config(app.config)


def get_storage() -> PhotoStorage:
    return current_app.extensions["photo_storage"]
