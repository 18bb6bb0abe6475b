"""Resumable photo uploads (app/photos/resumable.py): parts at the server's offset, a cut part keeps
what came, the whole photo checked against its SHA-256 and stored through the pipeline once."""
from __future__ import annotations

import hashlib
import io
import os
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.models import Photo, PhotoStatus, Role
from app.models.base import new_uuid
from app.photos import resumable

from tests import factories

PART = 16 * 1024


@pytest.fixture
def world(world):
    """The usual world with amy's finding (and its stored photo), and bob, another steward of the estate."""
    world["finding"] = factories.finding_with_photo(world["steward"], world["estate"], world["building"])
    world.add_person("bob", Role.STEWARD, "estate")
    return world


def noisy_jpeg(size=(600, 450)) -> bytes:
    """A real JPEG of some 100 KB (noise does not compress): several parts."""
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def put_part(api, photo_uuid, data, offset, *, part=None, size=None, sha256=None, **owner):
    body = data[offset:offset + PART] if part is None else part
    query = {"offset": offset, "size": len(data) if size is None else size,
             "sha256": sha256 or hashlib.sha256(data).hexdigest(), **owner}
    return api.client.put(f"/api/v1/photos/{photo_uuid}/upload", query_string=query, data=body,
                          headers={"X-CSRFToken": api.token}, content_type="application/octet-stream")


def status_of(api, photo_uuid):
    response = api.get(f"/api/v1/photos/{photo_uuid}/upload")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def partials(app) -> list[str]:
    folder = resumable.upload_folder()
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def photo_row(photo_uuid):
    return db.session.scalars(sa.select(Photo).where(Photo.uuid == photo_uuid)).first()


def test_a_photo_sent_in_parts_is_cut_then_resumed_and_stored_once(app, api, world):
    api.login("amy")
    finding = world["finding"].uuid
    data, photo_uuid = noisy_jpeg(), new_uuid()
    assert len(data) > 3 * PART
    assert status_of(api, photo_uuid) == {"uuid": photo_uuid, "offset": 0, "size": 0, "stored": False, "photo": None}
    first = put_part(api, photo_uuid, data, 0, finding_uuid=finding)
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"uuid": photo_uuid, "offset": PART, "size": len(data), "stored": False, "photo": None}
    # The signal goes in the middle of the second part: the server keeps what came (the body ends
    # before its Content-Length, as a cut connection does).
    cut = api.client.put(f"/api/v1/photos/{photo_uuid}/upload", data=data[PART:PART + 9000],
                         query_string={"offset": PART, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                       "finding_uuid": finding},
                         headers={"X-CSRFToken": api.token}, content_type="application/octet-stream",
                         environ_overrides={"CONTENT_LENGTH": str(PART)})
    assert cut.status_code == 400, cut.get_json()
    assert cut.get_json()["errors"]["offset"] == [str(PART + 9000)]
    assert photo_row(photo_uuid) is None
    # The phone asks how much arrived and continues from there: nothing is sent twice.
    offset = status_of(api, photo_uuid)["offset"]
    assert offset == PART + 9000
    while True:
        response = put_part(api, photo_uuid, data, offset, finding_uuid=finding)
        if response.status_code == 201:
            break
        assert response.status_code == 200, response.get_json()
        offset = response.get_json()["offset"]
    body = response.get_json()
    assert body["stored"] and body["offset"] == body["size"] == len(data)
    assert body["photo"]["uuid"] == photo_uuid and body["photo"]["status"] == "stored"
    stored = photo_row(photo_uuid)
    assert stored.status is PhotoStatus.STORED and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.width == 600 and stored.byte_size == len(data)
    assert partials(app) == []  # the partial went with the commit
    # Sent again (the answer was lost): the same answer, stored once.
    again = put_part(api, photo_uuid, data, 0, finding_uuid=finding)
    assert again.status_code == 201 and again.get_json()["photo"] == body["photo"]
    assert status_of(api, photo_uuid)["stored"] is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo).where(Photo.uuid == photo_uuid)) == 1


def test_a_part_at_another_offset_is_409_with_the_servers_offset(api, world):
    api.login("amy")
    finding = world["finding"].uuid
    data, photo_uuid = noisy_jpeg(), new_uuid()
    ahead = put_part(api, photo_uuid, data, PART, finding_uuid=finding)
    assert ahead.status_code == 409 and ahead.get_json()["errors"]["offset"] == ["0"]
    assert put_part(api, photo_uuid, data, 0, finding_uuid=finding).status_code == 200
    for offset in (0, PART // 2, 2 * PART):  # again, backwards, ahead
        response = put_part(api, photo_uuid, data, offset, finding_uuid=finding)
        assert response.status_code == 409, offset
        body = response.get_json()
        assert set(body) == {"code", "message", "errors"} and body["errors"]["offset"] == [str(PART)]
    assert status_of(api, photo_uuid)["offset"] == PART


def test_a_photo_that_does_not_match_its_sha256_is_422_and_its_partial_discarded(app, api, world):
    api.login("amy")
    finding = world["finding"].uuid
    data, photo_uuid = noisy_jpeg((300, 200)), new_uuid()
    wrong = hashlib.sha256(b"another photo").hexdigest()
    offset = 0
    while offset + PART < len(data):
        assert put_part(api, photo_uuid, data, offset, sha256=wrong, finding_uuid=finding).status_code == 200
        offset += PART
    last = put_part(api, photo_uuid, data, offset, sha256=wrong, finding_uuid=finding)
    assert last.status_code == 422 and last.get_json()["errors"]["sha256"]
    assert photo_row(photo_uuid) is None and partials(app) == []
    assert status_of(api, photo_uuid)["offset"] == 0  # sent again from the start


def test_a_part_of_other_bytes_than_the_hash_is_caught_at_the_end(app, api, world):
    """A part altered on the way (the same length, other bytes) is found by the whole photo's hash."""
    api.login("amy")
    finding = world["finding"].uuid
    data, photo_uuid = noisy_jpeg((300, 200)), new_uuid()
    assert len(data) > PART
    assert put_part(api, photo_uuid, data, 0, part=b"\0" * PART, finding_uuid=finding).status_code == 200
    last = put_part(api, photo_uuid, data, PART, part=data[PART:], finding_uuid=finding)
    assert last.status_code == 422 and photo_row(photo_uuid) is None and partials(app) == []


def test_oversized_photos_and_parts_are_413(app, api, world):
    api.login("amy")
    finding = world["finding"].uuid
    data, photo_uuid = noisy_jpeg(), new_uuid()
    too_big = put_part(api, photo_uuid, data, 0, size=app.config["PHOTO_MAX_BYTES"] + 1, finding_uuid=finding)
    assert too_big.status_code == 413 and "MB" in too_big.get_json()["message"]
    app.config["PHOTO_PART_MAX_BYTES"] = PART // 2
    long_part = put_part(api, photo_uuid, data, 0, finding_uuid=finding)
    assert long_part.status_code == 413 and long_part.get_json()["errors"]["body"]
    app.config["PHOTO_PART_MAX_BYTES"] = PART * 4
    beyond = put_part(api, photo_uuid, data, 0, part=data[:PART], size=PART // 2, finding_uuid=finding)
    assert beyond.status_code == 422 and beyond.get_json()["errors"]["size"]
    assert partials(app) == [] or status_of(api, photo_uuid)["offset"] == 0
    assert photo_row(photo_uuid) is None


def test_bytes_that_are_no_photo_are_422_and_discarded(app, api, world):
    api.login("amy")
    data, photo_uuid = b"<!doctype html><script>alert(1)</script>" * 10, new_uuid()
    response = put_part(api, photo_uuid, data, 0, finding_uuid=world["finding"].uuid)
    assert response.status_code == 422 and response.get_json()["errors"]["file"]
    assert photo_row(photo_uuid) is None and partials(app) == []


def test_another_stewards_partial_and_finding_are_not_theirs(api, world):
    api.login("amy")
    data, photo_uuid = noisy_jpeg(), new_uuid()
    assert put_part(api, photo_uuid, data, 0, finding_uuid=world["finding"].uuid).status_code == 200
    api.login("bob")
    assert put_part(api, new_uuid(), data, 0, finding_uuid=world["finding"].uuid).status_code == 404
    assert status_of(api, photo_uuid) == {"uuid": photo_uuid, "offset": 0, "size": 0, "stored": False, "photo": None}
    other_bob_finding = new_uuid()  # a finding still on bob's phone: his own upload, but not amy's partial
    assert put_part(api, photo_uuid, data, PART, finding_uuid=other_bob_finding).status_code == 404
    api.login("amy")
    assert status_of(api, photo_uuid)["offset"] == PART


def test_stale_partials_are_swept(app, api, world):
    api.login("amy")
    data, photo_uuid = noisy_jpeg(), new_uuid()
    assert put_part(api, photo_uuid, data, 0, finding_uuid=world["finding"].uuid).status_code == 200
    folder = resumable.upload_folder()
    now = datetime.now(timezone.utc)
    assert resumable.sweep_partials(folder, now=now) == []
    assert resumable.sweep_partials(folder, now=now + timedelta(days=4), dry_run=True) == [photo_uuid]
    assert partials(app)
    assert resumable.sweep_partials(folder, now=now + timedelta(days=4)) == [photo_uuid]
    assert partials(app) == []
    assert status_of(api, photo_uuid)["offset"] == 0
    # A leftover part without its description goes too.
    (folder / f"{new_uuid()}.part").write_bytes(b"x")
    old = (now - timedelta(days=4)).timestamp()
    for path in folder.iterdir():
        os.utime(path, (old, old))
    assert len(resumable.sweep_partials(folder, now=now)) == 1 and partials(app) == []


class SilentBody:
    """A part's body whose sender goes silent half-way (a phone cut off: no reset reaches the server)
    until `release` is set; then its bytes come after all."""

    def __init__(self, data: bytes, silent_after: int) -> None:
        self.stream, self.silent_after = io.BytesIO(data), silent_after
        self.silent, self.release = threading.Event(), threading.Event()

    def read(self, size: int = -1) -> bytes:
        if self.stream.tell() >= self.silent_after and not self.release.is_set():
            self.silent.set()
            assert self.release.wait(30)
        return self.stream.read(min(size, self.silent_after - self.stream.tell()) if not self.release.is_set()
                                and size > 0 else size)


def test_a_part_cut_off_without_a_reset_gives_what_came_and_its_later_bytes_are_dropped(app, client, api, world):
    api.login("amy")
    finding = world["finding"].uuid
    data, photo_uuid = noisy_jpeg(), new_uuid()
    sha = hashlib.sha256(data).hexdigest()
    assert put_part(api, photo_uuid, data, 0, finding_uuid=finding).status_code == 200
    # The second part's request hangs on the server, its sender silent.
    body = SilentBody(data[PART:2 * PART], 5000)
    stale_client = app.test_client()
    stale_client.set_cookie(app.config["SESSION_COOKIE_NAME"], client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)
    answers = []
    stale = threading.Thread(target=lambda: answers.append(stale_client.put(
        f"/api/v1/photos/{photo_uuid}/upload", query_string={"offset": PART, "size": len(data), "sha256": sha,
                                                            "finding_uuid": finding},
        headers={"X-CSRFToken": api.token}, content_type="application/octet-stream",
        environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(PART)})))
    stale.start()
    try:
        assert body.silent.wait(30)
        # The phone, back on a new connection, asks: what came of the hanging part is taken, and the phone
        # continues from there (the hanging request holds nothing up).
        offset = status_of(api, photo_uuid)["offset"]
        assert offset == PART + 5000
        while (response := put_part(api, photo_uuid, data, offset, finding_uuid=finding)).status_code == 200:
            offset = response.get_json()["offset"]
        assert response.status_code == 201, response.get_json()
    finally:
        body.release.set()
        stale.join(30)
    # The hanging part's bytes came at last: the photo is stored, they are dropped (409), nothing is left.
    assert answers and answers[0].status_code == 409
    assert photo_row(photo_uuid).sha256 == sha and partials(app) == []
