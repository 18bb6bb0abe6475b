"""What every step of a backup shares: the format, its errors and results, small helpers."""

import errno
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..extensions import db
from ..photos.storage import KEY_PATTERN

FORMAT = "xuncha-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
DATABASE_MEMBERS = {"sqlite": "database/xuncha.sqlite3", "postgresql": "database/xuncha.pgdump"}
PHOTO_MEMBER = re.compile(r"photos/([A-Za-z0-9_-]{4,128})\.jpg")
VERSION_TABLE = "alembic_version"
CHUNK = 1024 * 1024
MAX_MANIFEST_BYTES = 512 * 1024 * 1024

Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; `message` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Facts:
    """What a database holds: its schema revision, rows per table, the photo keys its rows name."""

    revision: str | None
    row_counts: dict[str, int]
    photo_keys: set[str] = field(default_factory=set)

    @property
    def data_rows(self) -> int:
        return sum(n for table, n in self.row_counts.items() if table != VERSION_TABLE)


@dataclass
class BackupResult:
    path: Path
    size: int
    manifest: dict


@dataclass
class RestoreResult:
    manifest: dict
    photos: int
    replaced_rows: int  # rows the target held before (only with force)
    schema_is_head: bool


# ---------------------------------------------------------------------------------------------
# Small helpers


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _os_reason(exc: OSError) -> str:
    reasons = {
        errno.ENOSPC: "no space left on the device (the disk is full)",
        errno.EDQUOT: "the disk quota is used up",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EFBIG: "the file is too large for that file system",
    }
    return reasons.get(exc.errno, exc.strerror or str(exc))


def _kind() -> str:
    return db.engine.dialect.name


def _quote_sqlite(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _valid_keys(values) -> set[str]:  # noqa: ANN001 - rows of one or two columns
    return {v for row in values for v in row if v is not None and KEY_PATTERN.fullmatch(v)}


def _engine_url_text() -> str:
    return db.engine.url.render_as_string(hide_password=True)
