"""Photo uploads through the API and serving them back: checked, idempotent, scoped."""
from __future__ import annotations

import hashlib
import io
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.models import Finding, FindingResult, Photo, PhotoStatus, Role
from app.models.base import new_uuid
from app.rounds import intake

from tests import factories


@pytest.fixture
def world(world):
    """The usual world (tests/conftest.py) with amy's finding and its photo, and bob, another steward of the estate."""
    world["finding"] = factories.finding_with_photo(world["steward"], world["estate"], world["building"])
    world.add_person("bob", Role.STEWARD, "estate")
    return world


def photo_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Photo))


def test_upload_is_idempotent_and_conflicts_are_refused(api, world):
    api.login("amy")
    finding_uuid = world["finding"].uuid
    photo_uuid, data = new_uuid(), factories.jpeg_bytes((1200, 900))
    first = api.upload(photo_uuid, data, finding_uuid=finding_uuid)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["uuid"] == photo_uuid and first.get_json()["status"] == "stored"
    again = api.upload(photo_uuid, data, finding_uuid=finding_uuid)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    other_bytes = factories.jpeg_bytes((1200, 900), color=(0, 0, 255))
    assert api.upload(photo_uuid, other_bytes, finding_uuid=finding_uuid).status_code == 409
    stored = db.session.scalars(sa.select(Photo).where(Photo.uuid == photo_uuid)).one()
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


def test_checksum_mismatch_is_refused(api, world):
    api.login("amy")
    data = factories.jpeg_bytes()
    response = api.upload(new_uuid(), data, finding_uuid=world["finding"].uuid, sha256="0" * 64)
    assert response.status_code == 422 and "sha256" in response.get_json()["errors"]


def tiny_png_header(width, height) -> bytes:
    import struct
    import zlib

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("text", b"not an image at all", 422),
        ("html renamed .jpg", b"<!doctype html><html><script>alert(1)</script></html>", 422),
        ("svg renamed .jpg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 422),
        ("truncated jpeg", None, 422),
        ("pixel bomb", tiny_png_header(20000, 20000), 422),
    ],
)
def test_bad_files_get_a_clear_message_and_nothing_is_stored(client, api, world, name, data, status):
    if data is None:
        noisy = Image.effect_noise((800, 600), 60).convert("RGB")
        buffer = io.BytesIO()
        noisy.save(buffer, "JPEG")
        data = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    api.login("amy")
    before = photo_count()
    response = api.upload(new_uuid(), data, finding_uuid=world["finding"].uuid)
    assert response.status_code == status, name
    body = response.get_json()
    assert body["message"] and body["errors"]["file"]
    assert photo_count() == before
    assert client.get("/healthz").status_code == 200


def test_file_over_the_limit_is_413(app, api, world):
    app.config["PHOTO_MAX_BYTES"] = 50_000
    api.login("amy")
    data = Image.effect_noise((400, 400), 80).convert("RGB")  # under the test client's 500 KB spool
    buffer = io.BytesIO()
    data.save(buffer, "JPEG", quality=95)
    response = api.upload(new_uuid(), buffer.getvalue(), finding_uuid=world["finding"].uuid)
    assert response.status_code == 413
    assert "MB" in response.get_json()["message"]


def test_a_request_body_over_the_server_limit_is_413_json(app, api, world):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    api.login("amy")
    response = api.upload(new_uuid(), b"x" * 20_000, finding_uuid=world["finding"].uuid)
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


def test_another_stewards_finding_is_404(api, world):
    api.login("bob")
    response = api.upload(new_uuid(), factories.jpeg_bytes(), finding_uuid=world["finding"].uuid)
    assert response.status_code == 404


@pytest.mark.parametrize(("username", "status"), [("amy", 200), ("desk", 200), ("bob", 404), ("far-desk", 404)])
def test_photos_are_served_only_within_the_estate(client, auth, world, username, status):
    photo = world["finding"].photos[0]
    auth.login(username)
    for variant in ("thumb", "display"):
        response = client.get(f"/photos/{photo.uuid}/{variant}")
        assert response.status_code == status
        if status == 200:
            assert response.mimetype == "image/jpeg"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "private" in response.headers["Cache-Control"] and "max-age=31536000" in response.headers["Cache-Control"]
            image = Image.open(io.BytesIO(response.data))
            assert max(image.size) <= (320 if variant == "thumb" else 2048)
            assert not image.getexif()
        response.close()


def test_photos_are_stored_outside_static_under_random_names(app, world):
    photo = world["finding"].photos[0]
    from app.photos.storage import get_storage

    path = get_storage().path(photo.display_key)
    assert "static" not in path.parts and photo.uuid not in str(path)
    assert path.is_file()


def test_a_photo_sent_before_its_round_is_attached_when_the_round_arrives(api, world, app):
    """Photos are named by their finding's UUID, so the order of arrival does not matter."""
    api.login("amy")
    finding_uuid, photo_uuid = new_uuid(), new_uuid()
    assert api.upload(photo_uuid, factories.jpeg_bytes(), finding_uuid=finding_uuid).status_code == 201
    photo = db.session.scalars(sa.select(Photo).where(Photo.uuid == photo_uuid)).one()
    assert photo.finding_id is None and photo.status is PhotoStatus.STORED
    rnd = world["finding"].round
    db.session.add(Finding(uuid=finding_uuid, round=rnd, item=world["finding"].item, result=FindingResult.DEFECT,
                           reason_text="x", floor=2, recorded_at=datetime.now(timezone.utc)))
    db.session.flush()
    intake._name_photo(db.session, photo_uuid, db.session.scalars(sa.select(Finding).where(Finding.uuid == finding_uuid)).one())
    db.session.flush()
    assert photo.finding.uuid == finding_uuid
