"""Resumable photo uploads: a phone on a weak signal sends a photo in bounded parts, each at the
offset the server has, so a cut costs at most the part that was on its way, never the whole photo.

The phone knows the photo's size and SHA-256 up front (it computed them when the photo was taken)
and sends them with every part, with the finding (or record) it shows: `PUT /api/v1/photos/<uuid>/upload
?offset=…&size=…&sha256=…&finding_uuid=…`, the body the part's bytes. The server appends the part
to a partial file in the photo folder's temp area (PHOTO_DIR/.uploads/<uuid>.part, beside its
<uuid>.json: who sends it, for what, how big, which hash), writing as the bytes arrive: a part cut
in the middle keeps what came. After a cut the phone asks how much arrived (`GET …/upload`) and
continues from there. When the last byte is in, the whole file is checked against its SHA-256 and
goes through the same pipeline and storage as a one-request upload (uploads.py); the partial is
removed once the photo's row is committed.

Refusals: a part at another offset than the server's is 409 with the server's offset in
`errors.offset` (the phone continues from there); a file that does not match its SHA-256 is 422 and
its partial is discarded (sent again from the start); a photo or a part over its limit is 413.
Partials nobody continued are removed by `sweep_partials` (the sweep-photos command).

The temp area is a local folder: with several app hosts behind a balancer (S3 storage), a photo's
parts must reach the same host (sticky sessions), or the phone starts that photo again elsewhere.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import Photo, User
from ..refusals import Conflict, NotFound, Refusal, Rejected, TooLarge
from . import uploads
from .pipeline import _too_large

#: The largest part the server takes in one request (the phone sends parts of 96–160 KB).
DEFAULT_PART_MAX_BYTES = 1024 * 1024
#: A partial nobody continued for this long is removed by the sweep.
DEFAULT_PARTIAL_GRACE = timedelta(hours=72)
#: How long a part waits for another part of the same photo still being written (a request cut
#: off on the phone's side may still be read on ours for a moment).
LOCK_WAIT_S = 10.0
_PIECE = 64 * 1024


class PartIncomplete(Refusal):
    """The part's body ended before its Content-Length: what came is kept."""

    status = 400


class LengthRequired(Refusal):
    """A part without its length (chunked): refused, as the server must know where it ends."""

    status = 400


@dataclass
class UploadState:
    """How much of a photo the server has: `offset` of `size` bytes; `photo` once it is stored."""

    uuid: str
    offset: int
    size: int
    photo: Photo | None = None
    finished: bool = False  # this request stored it: its partial goes once the row is committed

    @property
    def stored(self) -> bool:
        return self.photo is not None


def upload_folder() -> Path:
    configured = current_app.config.get("PHOTO_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.config["PHOTO_DIR"]) / ".uploads"


def part_max_bytes() -> int:
    return int(current_app.config.get("PHOTO_PART_MAX_BYTES", DEFAULT_PART_MAX_BYTES))


def part_too_large_message():  # noqa: ANN201
    return _l("A part may be at most %(limit)s bytes.", limit=part_max_bytes())


def _paths(folder: Path, uuid: str) -> tuple[Path, Path, Path]:
    name = uuid.lower()  # the route's converter allows hex digits and dashes only: no path tricks
    return folder / f"{name}.part", folder / f"{name}.json", folder / f"{name}.lock"


@contextmanager
def _locked(folder: Path, uuid: str, offset_now) -> Iterator[None]:  # noqa: ANN001
    """One request at a time writes a photo's partial (processes and threads alike: flock)."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = _paths(folder, uuid)[2]
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() > deadline:
                offset = offset_now()
                raise Conflict(_l("Another part of this photo is still arriving; continue from byte %(offset)s.",
                                  offset=offset), {"offset": [str(offset)]}) from None
            time.sleep(0.05)
            continue
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False  # removed by the request that finished it: take the new one
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)


def _read_meta(meta: Path) -> dict | None:
    try:
        return json.loads(meta.read_text())
    except (FileNotFoundError, ValueError):
        return None


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _discard(folder: Path, uuid: str) -> None:
    part, meta, lock = _paths(folder, uuid)
    for path in (part, meta, lock):
        path.unlink(missing_ok=True)


def _state_of_stored(uuid: str, photo: Photo) -> UploadState:
    return UploadState(uuid, photo.byte_size or 0, photo.byte_size or 0, photo=photo)


def upload_status(session: Session, user: User, uuid: str) -> UploadState:
    """How much of photo `uuid` the server has from `user`: all of it (stored), part, or nothing (0 of 0).

    A part whose sender was cut off without a reset reaching the server still has its request waiting
    for the rest; what it received so far is taken into the partial here (the phone asks after a cut),
    and that request's later bytes are dropped: nothing that arrived is sent twice."""
    photo = uploads.stored_photo_of(session, user, uuid)
    if photo is not None:
        return _state_of_stored(uuid, photo)
    folder = upload_folder()
    part, meta_path, _ = _paths(folder, uuid)
    meta = _read_meta(meta_path)
    if meta is None or meta.get("user_id") != user.id:
        return UploadState(uuid, 0, 0)
    with _locked(folder, uuid, lambda: _size_of(part)):
        meta = _read_meta(meta_path)
        if meta is None:
            return UploadState(uuid, 0, 0)
        _adopt_waiting_piece(folder, uuid, meta, part)
        return UploadState(uuid, min(_size_of(part), meta["size"]), meta["size"])


def _piece_glob(uuid: str, meta: dict, offset: int | str) -> str:
    return f"{uuid.lower()}.{meta.get('generation', '')}.{offset}.*.piece"


def _adopt_waiting_piece(folder: Path, uuid: str, meta: dict, part: Path) -> None:
    """Join the longest piece that begins where the partial ends (its request still waits for the rest)."""
    current = _size_of(part)
    pieces = sorted(folder.glob(_piece_glob(uuid, meta, current)), key=_size_of, reverse=True)
    if not pieces or not _size_of(pieces[0]):
        return
    with open(pieces[0], "rb") as source:
        data = source.read(meta["size"] - current)  # what came so far: a prefix of the part, in order
    for piece in pieces:
        piece.unlink(missing_ok=True)  # their requests, when they end, find the partial moved on (409)
    with open(part, "ab") as target:
        target.write(data)
        target.flush()
        os.fsync(target.fileno())


def receive_part(session: Session, user: User, uuid: str, *, offset: int, size: int, sha256: str,
                 finding_uuid: str | None, record_uuid: str | None, body: BinaryIO, length: int | None,
                 max_bytes: int, max_pixels: int, end_reads=lambda: None) -> UploadState:  # noqa: ANN001
    """Append one part at `offset`; when it completes the photo, check and store it (the caller
    commits, then calls `finish`). `end_reads` ends the checks' read transaction (no lock is held
    while the bytes arrive or the photo is decoded)."""
    if size > max_bytes:
        raise TooLarge(_too_large(max_bytes).message, {"size": [str(_too_large(max_bytes).message)]})
    if length is None:
        raise LengthRequired(_l("Send the part's length (Content-Length)."))
    if length > part_max_bytes():
        message = part_too_large_message()
        raise TooLarge(message, {"body": [message]})
    checked = uploads.check_owner(session, user, uuid, finding_uuid, sha256, record_uuid=record_uuid)
    end_reads()
    if isinstance(checked, Photo):
        return _state_of_stored(uuid, checked)  # stored before: the same answer again
    folder = upload_folder()
    part, meta_path, _ = _paths(folder, uuid)
    wanted = {"user_id": user.id, "size": size, "sha256": sha256, "finding_uuid": finding_uuid,
              "record_uuid": record_uuid}
    with _locked(folder, uuid, lambda: _size_of(part)):  # the checks, before the body is read
        meta = _read_meta(meta_path)
        if meta is not None and meta.get("user_id") != user.id:
            raise NotFound(_l("This photo does not exist or is not yours."))
        if meta is not None and {k: meta.get(k) for k in wanted} != wanted:
            if offset != 0:
                raise Conflict(_l("A different photo is being uploaded under this ID."))
            _discard(folder, uuid)  # the same phone starts this ID again with other bytes: the new one wins
            meta = None
        _at_offset(offset, _size_of(part) if meta is not None else 0)
        if offset + length > size:
            message = _l("This part goes beyond the photo's size (%(size)s bytes).", size=size)
            raise Rejected(message, {"size": [message]})
        if meta is None:
            meta = {**wanted, "started_at": datetime.now(timezone.utc).isoformat(), "generation": secrets.token_hex(4)}
            meta_path.write_text(json.dumps(meta))
            part.touch()
    # The body into a piece file of its own, with no lock held: a part cut off on the phone's side may keep
    # its request waiting here for a long time (no reset reaches the server), and the phone, back, continues
    # meanwhile. The piece joins the partial only if the partial still ends where the piece begins.
    piece = folder / _piece_glob(uuid, meta, offset).replace("*", secrets.token_hex(8))
    try:
        received = _receive(piece, body, length)
        if not meta_path.exists():  # stored or discarded meanwhile (not even its lock is made again)
            _at_offset(offset, 0)
        with _locked(folder, uuid, lambda: _size_of(part)):
            if {k: (_read_meta(meta_path) or {}).get(k) for k in wanted} != wanted:  # discarded or stored meanwhile
                _at_offset(offset, 0)
            if not piece.exists():  # taken by a status asked meanwhile: the partial moved on
                raise _offset_conflict(_size_of(part))
            _at_offset(offset, _size_of(part))
            with open(piece, "rb") as source, open(part, "ab") as target:
                shutil.copyfileobj(source, target)
                target.flush()
                os.fsync(target.fileno())
            if received < length:
                raise PartIncomplete(_l("The part arrived incomplete; what came is kept. Ask how much arrived and "
                                        "continue from there."), {"offset": [str(offset + received)]})
            if offset + length < size:
                return UploadState(uuid, offset + length, size)
            return _store(session, user, uuid, folder, sha256, finding_uuid, record_uuid, max_bytes, max_pixels)
    finally:
        piece.unlink(missing_ok=True)


def _at_offset(offset: int, current: int) -> None:
    if offset != current:
        raise _offset_conflict(current)


def _offset_conflict(current: int) -> Conflict:
    return Conflict(_l("The server has %(offset)s bytes of this photo; continue from there.", offset=current),
                    {"offset": [str(current)]})


def _receive(piece: Path, body: BinaryIO, length: int) -> int:
    """Write the part's bytes as they arrive; a cut keeps what came. The bytes received."""
    received = 0
    with open(piece, "wb") as f:
        try:
            while received < length:
                chunk = body.read(min(_PIECE, length - received))
                if not chunk:
                    break
                f.write(chunk)
                f.flush()  # readable at once: a status asked after a cut takes what came (upload_status)
                received += len(chunk)
        except Exception:  # noqa: BLE001 - the client went away mid-body (werkzeug's ClientDisconnected, OSError)
            pass
    return received


def _store(session: Session, user: User, uuid: str, folder: Path, sha256: str, finding_uuid: str | None,
           record_uuid: str | None, max_bytes: int, max_pixels: int) -> UploadState:
    """The last byte is in: the whole photo against its hash, then the one-request path's checks,
    pipeline and storage. Bytes that cannot become a photo are discarded (sending them again cannot help)."""
    part = _paths(folder, uuid)[0]
    data = part.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        _discard(folder, uuid)
        message = _l("The photo arrived, but its checksum does not match: it is sent again from the start.")
        raise Rejected(message, {"sha256": [message]})
    try:
        checked = uploads.check_photo(session, user, uuid, finding_uuid, data, sha256, record_uuid=record_uuid)
        if isinstance(checked, Photo):
            _discard(folder, uuid)
            return _state_of_stored(uuid, checked)
        processed = uploads.process_upload(checked, data, max_bytes=max_bytes, max_pixels=max_pixels)
    except Rejected:
        _discard(folder, uuid)
        raise
    photo = uploads.record_photo(session, user, checked, processed, len(data))
    return UploadState(uuid, len(data), len(data), photo=photo, finished=True)


def finish(uuid: str) -> None:
    """The photo's row is committed: its partial goes."""
    _discard(upload_folder(), uuid)


def _written(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except FileNotFoundError:
        return datetime.now(timezone.utc)  # gone meanwhile: young


def sweep_partials(folder: Path, *, grace: timedelta = DEFAULT_PARTIAL_GRACE, now: datetime | None = None,
                   dry_run: bool = False) -> list[str]:
    """Remove the partial uploads nobody continued for `grace` (by their last write); the names removed."""
    now = now or datetime.now(timezone.utc)
    removed = []
    if not folder.is_dir():
        return removed
    for meta in folder.glob("*.json"):
        uuid = meta.stem
        part = _paths(folder, uuid)[0]
        try:
            last = max(p.stat().st_mtime for p in (meta, part) if p.exists())
        except (ValueError, FileNotFoundError):
            continue
        if now - datetime.fromtimestamp(last, timezone.utc) >= grace:
            if not dry_run:
                _discard(folder, uuid)
            removed.append(uuid)
    for piece in [*folder.glob("*.piece"), *folder.glob("*.lock")]:  # a part whose request never ended, a lock left
        if piece.suffix == ".lock" and piece.with_suffix(".json").exists():
            continue
        if now - _written(piece) >= grace:
            if not dry_run:
                piece.unlink(missing_ok=True)
            removed.append(piece.name)
    for part in folder.glob("*.part"):  # a partial whose description is gone
        if not part.with_suffix(".json").exists() and now - _written(part) >= grace:
            if not dry_run:
                _discard(folder, part.stem)
            removed.append(part.stem)
    return removed
