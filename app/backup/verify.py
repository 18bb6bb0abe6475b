"""Reading an archive and checking all of it (names, sizes, checksums, the snapshot against the manifest)
before anything is touched."""

import hashlib
import json
import sqlite3
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .common import (
    CHUNK,
    DATABASE_MEMBERS,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MANIFEST_SUM,
    MAX_MANIFEST_BYTES,
    PHOTO_MEMBER,
    BackupError,
    Facts,
    _os_reason,
)
from .facts import _pg_dump_facts, _sqlite_facts

# ---------------------------------------------------------------------------------------------
# Verification


@dataclass
class VerifiedArchive:
    manifest: dict
    snapshot: Path  # the database member, copied out into the work folder
    facts: Facts
    members: dict[str, tuple[int, str]]  # name -> (size, sha256), as read


def _refuse(message: str) -> BackupError:
    return BackupError(f"{message}. The archive was refused; nothing was changed.")


def _check_member(info: tarfile.TarInfo, seen: dict) -> None:
    name = info.name
    if not (name in (MANIFEST, MANIFEST_SUM) or name in DATABASE_MEMBERS.values() or PHOTO_MEMBER.fullmatch(name)):
        raise _refuse(f"the archive holds an unexpected member {name!r} (not a Xuncha backup, or altered)")
    if not info.isreg():
        raise _refuse(f"the archive's member {name!r} is not a plain file (a link or a device)")
    if name in seen:
        raise _refuse(f"the archive holds {name!r} twice")


def _copy_hashing(src: IO[bytes], out: IO[bytes] | None) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := src.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if out is not None:
            out.write(chunk)
    return size, digest.hexdigest()


def _read_members(archive: Path, workdir: Path) -> tuple[dict, bytes | None, bytes | None, Path | None]:
    seen: dict[str, tuple[int, str]] = {}
    manifest = checksum = None
    snapshot = None
    with tarfile.open(archive, mode="r|*") as tar:
        for info in tar:
            _check_member(info, seen)
            src = tar.extractfile(info)
            assert src is not None
            if info.name in (MANIFEST, MANIFEST_SUM):
                if info.size > MAX_MANIFEST_BYTES:
                    raise _refuse(f"the archive's {info.name} is implausibly large")
                data = src.read()
                if info.name == MANIFEST:
                    manifest = data
                else:
                    checksum = data
                seen[info.name] = (len(data), hashlib.sha256(data).hexdigest())
            elif info.name in DATABASE_MEMBERS.values():
                snapshot = workdir / Path(info.name).name
                with open(snapshot, "wb") as out:
                    seen[info.name] = _copy_hashing(src, out)
            else:
                seen[info.name] = _copy_hashing(src, None)
            if seen[info.name][0] != info.size:
                raise _refuse(f"the archive's member {info.name!r} is cut short (truncated)")
    return seen, manifest, checksum, snapshot


def verify_archive(archive: str | Path, workdir: str | Path) -> VerifiedArchive:
    """Read and check the whole archive without touching the database or photo storage.
    The database member is copied into `workdir`. BackupError says what is wrong."""
    archive, workdir = Path(archive), Path(workdir)
    try:
        seen, manifest_bytes, checksum, snapshot = _read_members(archive, workdir)
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise _refuse(f"{archive} is damaged or truncated ({exc or type(exc).__name__})") from None
    except OSError as exc:
        raise _refuse(f"cannot read {archive}: {_os_reason(exc)}") from None

    if manifest_bytes is None or checksum is None:
        raise _refuse(f"{archive} has no manifest: it is damaged or truncated, or not a Xuncha backup")
    expected_sum = checksum.decode("ascii", "replace").split()[:1]
    if expected_sum != [hashlib.sha256(manifest_bytes).hexdigest()]:
        raise _refuse("the manifest does not match its checksum (manifest.sha256): it was edited or damaged")
    try:
        manifest = json.loads(manifest_bytes)
        members = {m["name"]: (int(m["size"]), str(m["sha256"])) for m in manifest["members"]}
        kind = manifest["database_kind"]
        row_counts = {str(t): int(n) for t, n in manifest["row_counts"].items()}
        missing_photos = set(manifest.get("missing_photos", []))
        if manifest.get("format") != FORMAT or len(members) != len(manifest["members"]):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _refuse("the manifest is not a Xuncha backup manifest") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse(f"the archive has format version {manifest.get('format_version')!r}; "
                      f"this Xuncha reads version {FORMAT_VERSION}")
    if kind not in DATABASE_MEMBERS or manifest.get("database_member") != DATABASE_MEMBERS[kind]:
        raise _refuse("the manifest names no database this Xuncha can restore")

    present = set(seen) - {MANIFEST, MANIFEST_SUM}
    lacking = sorted(set(members) - present)
    if lacking:
        raise _refuse(f"{len(lacking)} member(s) the manifest lists are missing from the archive "
                      f"(e.g. {lacking[0]}): it is truncated or damaged")
    extra = sorted(present - set(members))
    if extra:
        raise _refuse(f"the archive holds {len(extra)} member(s) the manifest does not list (e.g. {extra[0]})")
    altered = sorted(n for n in members if seen[n] != members[n])
    if altered:
        raise _refuse(f"{altered[0]} does not match its size and SHA-256 in the manifest: it was altered or damaged"
                      + (f" ({len(altered)} members in all)" if len(altered) > 1 else ""))
    if DATABASE_MEMBERS[kind] not in members or snapshot is None:
        raise _refuse("the archive holds no database snapshot")

    # The snapshot must agree with what the manifest says about it.
    if kind == "sqlite":
        try:
            conn = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
            try:
                if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise _refuse("the database snapshot in the archive is damaged")
                facts = _sqlite_facts(conn)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise _refuse(f"the database snapshot in the archive cannot be read ({exc})") from None
    else:
        facts = _pg_dump_facts(snapshot)
    if facts.row_counts != row_counts:
        differ = sorted(set(facts.row_counts) ^ set(row_counts)) or sorted(
            t for t in row_counts if facts.row_counts[t] != row_counts[t])
        table = differ[0]
        raise _refuse(f"the manifest's row counts do not match the database in the archive (table {table}: "
                      f"manifest {row_counts.get(table)}, snapshot {facts.row_counts.get(table)})")
    if facts.revision != manifest.get("schema_revision"):
        raise _refuse(f"the manifest's schema revision {manifest.get('schema_revision')!r} is not the snapshot's "
                      f"({facts.revision!r})")
    photo_members = {PHOTO_MEMBER.fullmatch(n).group(1) for n in members if PHOTO_MEMBER.fullmatch(n)}
    if photo_members | missing_photos != facts.photo_keys or photo_members & missing_photos:
        raise _refuse("the photos in the archive are not the photos the database snapshot names")
    return VerifiedArchive(manifest, snapshot, facts, seen)
