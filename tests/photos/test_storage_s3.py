"""The photo storage contract on both backends, the S3 one against a real S3-compatible server.

moto's standalone server runs as a separate process (`python -m moto.server`), started once per
session and stopped afterwards; each test gets its own bucket. The app talks to it over HTTP
through boto3, as it would to AWS S3 or MinIO.
"""
from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid as uuidlib
from pathlib import Path

import boto3
import pytest
import sqlalchemy as sa
from botocore.config import Config
from PIL import Image

from app import ConfigError, create_app
from app.extensions import db
from app.models import Photo, Role
from app.photos.storage import (
    LocalPhotoStorage,
    S3PhotoStorage,
    StorageError,
    get_storage,
    new_key,
    storage_from_config,
)

from tests import factories
from tests.conftest import Api, AuthActions, IsolatedClient, base_config
from tests.photos.test_storage import UNSAFE_KEYS

ACCESS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing", "S3_REGION": "us-east-1"}
START_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """A moto S3 server process on a free local port; yields its URL, kills it at the end."""
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto server exited ({process.returncode}):\n{log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not answer within {START_TIMEOUT_S} s:\n"
                                   f"{log_path.read_text()[-2000:]}")
            time.sleep(0.05)  # polling interval while waiting for the condition above
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def admin_client(endpoint: str):
    """Our own look at the bucket, independent of the code under test."""
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def bucket(s3_endpoint):
    name = f"xuncha-test-{uuidlib.uuid4().hex[:12]}"
    s3 = admin_client(s3_endpoint)
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=obj["Key"])
    s3.delete_bucket(Bucket=name)
    s3.close()


def bucket_keys(endpoint: str, name: str) -> list[str]:
    s3 = admin_client(endpoint)
    try:
        return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", []))
    finally:
        s3.close()


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """The same contract, on each backend."""
    if request.param == "local":
        return LocalPhotoStorage(tmp_path / "photos")
    endpoint = request.getfixturevalue("s3_endpoint")
    name = request.getfixturevalue("bucket")
    return S3PhotoStorage(name, prefix="photos/", endpoint_url=endpoint, region="us-east-1",
                          access_key_id="testing", secret_access_key="testing")


def stored_names(store, tmp_path) -> list[str]:
    """Everything the backend holds, whatever it is."""
    if isinstance(store, LocalPhotoStorage):
        root = tmp_path / "photos"
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return bucket_keys(store.client.meta.endpoint_url, store.bucket)


def test_save_open_exists_delete(store, tmp_path):
    key, data = new_key(), factories.jpeg_bytes()
    assert store.exists(key) is False
    store.save(key, data)
    assert store.exists(key) is True
    with store.open(key) as f:
        assert f.read() == data
    assert len(stored_names(store, tmp_path)) == 1
    store.delete(key)
    assert store.exists(key) is False
    with pytest.raises(FileNotFoundError):
        store.open(key)
    assert stored_names(store, tmp_path) == []


def test_save_replaces_and_keys_are_independent(store):
    a, b = new_key(), new_key()
    store.save(a, b"first")
    store.save(b, b"other")
    store.save(a, b"second")
    with store.open(a) as f:
        assert f.read() == b"second"
    with store.open(b) as f:
        assert f.read() == b"other"


def test_large_binary_objects_round_trip(store):
    key, data = new_key(), os.urandom(3 * 1024 * 1024) + b"\x00\xff" * 10
    store.save(key, data)
    with store.open(key) as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()


def test_unknown_keys(store):
    key = new_key()
    store.delete(key)  # quiet
    assert store.exists(key) is False
    with pytest.raises(FileNotFoundError):
        store.open(key)


def test_invalid_keys_are_refused_before_anything_is_touched(store, tmp_path):
    for key in UNSAFE_KEYS + [None, b"abcdef", 12345678]:
        for call in (lambda: store.save(key, b"data"), lambda: store.open(key), lambda: store.delete(key),
                     lambda: store.exists(key)):
            with pytest.raises(ValueError):
                call()
    assert stored_names(store, tmp_path) == []


def test_s3_objects_are_named_by_prefix_and_key(s3_endpoint, bucket):
    store = S3PhotoStorage(bucket, prefix="xuncha/photos/", endpoint_url=s3_endpoint, region="us-east-1",
                           access_key_id="testing", secret_access_key="testing")
    key = new_key()
    store.save(key, b"data")
    assert bucket_keys(s3_endpoint, bucket) == [f"xuncha/photos/{key}.jpg"]
    s3 = admin_client(s3_endpoint)
    head = s3.head_object(Bucket=bucket, Key=f"xuncha/photos/{key}.jpg")
    s3.close()
    assert head["ContentType"] == "image/jpeg"


def test_a_missing_bucket_is_a_storage_error_not_a_missing_photo(s3_endpoint):
    store = S3PhotoStorage("no-such-bucket-here", endpoint_url=s3_endpoint, region="us-east-1",
                           access_key_id="testing", secret_access_key="testing")
    key = new_key()
    with pytest.raises(StorageError):
        store.save(key, b"data")
    with pytest.raises(StorageError) as caught:
        store.open(key)
    assert not isinstance(caught.value, FileNotFoundError)


def test_an_unreachable_store_is_an_oserror(tmp_path):
    store = S3PhotoStorage("bucket", endpoint_url=f"http://127.0.0.1:{free_port()}", region="us-east-1",
                           access_key_id="testing", secret_access_key="testing")
    with pytest.raises(OSError):
        store.save(new_key(), b"data")


def test_the_client_is_made_again_after_a_fork(s3_endpoint, bucket):
    """gunicorn may build the app before forking workers: a client must not cross a fork."""
    store = S3PhotoStorage(bucket, endpoint_url=s3_endpoint, region="us-east-1",
                           access_key_id="testing", secret_access_key="testing")
    key = new_key()
    store.save(key, b"parent")
    parent_client = store.client
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            ok = store.open(key).read() == b"parent" and store.client is not parent_client
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
    os.close(read)


# Choosing the backend by config


def test_local_is_the_default(tmp_path):
    chosen = storage_from_config({"PHOTO_DIR": str(tmp_path / "p")})
    assert isinstance(chosen, LocalPhotoStorage) and (tmp_path / "p").is_dir()


def test_s3_is_chosen_by_config(tmp_path):
    chosen = storage_from_config({"PHOTO_STORAGE": "S3", "S3_BUCKET": "photos", "S3_PREFIX": "x/",
                                  "S3_ENDPOINT_URL": "http://127.0.0.1:9", "PHOTO_DIR": str(tmp_path / "p"), **ACCESS})
    assert isinstance(chosen, S3PhotoStorage) and chosen.bucket == "photos" and chosen.prefix == "x/"
    assert not (tmp_path / "p").exists()  # no local folder for an S3 deployment


@pytest.mark.parametrize("config, message", [
    ({"PHOTO_STORAGE": "s3"}, "S3_BUCKET"),
    ({"PHOTO_STORAGE": "ftp"}, "PHOTO_STORAGE 'ftp' is unknown"),
])
def test_bad_storage_config_stops_the_app_with_a_clear_message(tmp_path, config, message):
    with pytest.raises(ConfigError, match=message):
        create_app({**base_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}"), **config})


def test_environment_selects_s3(tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTO_STORAGE", "s3")
    monkeypatch.setenv("S3_BUCKET", "from-env")
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:9")
    config = base_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app({k: v for k, v in config.items() if k != "PHOTO_DIR"})
    store = app.extensions["photo_storage"]
    assert isinstance(store, S3PhotoStorage) and store.bucket == "from-env"


# End to end: the API stores a photo in the bucket and the app serves it back from there


@pytest.fixture
def s3_app(backend, migrated_template, tmp_path, s3_endpoint, bucket):
    url, handle = backend.new_url(template=migrated_template)
    app = create_app({**base_config(tmp_path, url), "PHOTO_STORAGE": "s3", "S3_BUCKET": bucket,
                      "S3_ENDPOINT_URL": s3_endpoint, "S3_PREFIX": "photos/", **ACCESS})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    backend.drop(handle)


def test_photo_upload_and_serving_through_s3(s3_app, s3_endpoint, bucket, tmp_path):
    w = factories.build_world(people={"amy": (Role.STEWARD, "estate")})
    finding = factories.finding_with_photo(w["amy"], w["estate"], w["building"])
    w.save()
    s3_app.test_client_class = IsolatedClient
    client = s3_app.test_client()
    api = Api(client, AuthActions(client))
    api.login("amy")

    photo_uuid, data = str(uuidlib.uuid4()), factories.jpeg_bytes((1600, 1200), color=(10, 120, 200))
    before = set(bucket_keys(s3_endpoint, bucket))
    response = api.upload(photo_uuid, data, finding_uuid=finding.uuid)
    assert response.status_code == 201, response.get_json()

    photo = db.session.scalars(sa.select(Photo).where(Photo.uuid == photo_uuid)).one()
    added = set(bucket_keys(s3_endpoint, bucket)) - before
    assert added == {f"photos/{photo.display_key}.jpg", f"photos/{photo.thumb_key}.jpg"}
    assert not Path(tmp_path / "photos").exists() or not any(Path(tmp_path / "photos").rglob("*.jpg"))

    s3 = admin_client(s3_endpoint)
    in_bucket = s3.get_object(Bucket=bucket, Key=f"photos/{photo.thumb_key}.jpg")["Body"].read()
    s3.close()
    thumb = client.get(f"/photos/{photo_uuid}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.data == in_bucket and int(thumb.headers["Content-Length"]) == len(in_bucket)
    image = Image.open(io.BytesIO(thumb.data))
    assert image.format == "JPEG" and max(image.size) <= 320
    display = client.get(f"/photos/{photo_uuid}/display")
    assert display.status_code == 200 and Image.open(io.BytesIO(display.data)).size == (1600, 1200)
    with s3_app.app_context():
        assert get_storage().exists(photo.display_key)
