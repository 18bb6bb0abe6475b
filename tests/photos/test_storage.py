"""Photo storage (app/photos/storage.py): local files, written atomically, under random keys."""
from __future__ import annotations

import os
import re

import pytest
from flask import Flask

from app.photos import storage
from app.photos.storage import LocalPhotoStorage, get_storage, new_key

UNSAFE_KEYS = ["", "../x", "a/b", "..", "../../etc/passwd", "a\\b", "abc/../../x", "with space", "dot.ted", "x\x00y",
               "/abs", "ké", "ab", "x" * 129]


@pytest.fixture
def store(tmp_path) -> LocalPhotoStorage:
    return LocalPhotoStorage(tmp_path / "photos")


def all_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_new_keys_are_url_safe_and_long():
    key = new_key()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", key)


def test_new_keys_are_unique():
    keys = {new_key() for _ in range(10_000)}
    assert len(keys) == 10_000


def test_save_then_open_exists_delete(store):
    key = new_key()
    assert not store.exists(key)
    store.save(key, b"\xff\xd8 jpeg bytes")
    assert store.exists(key)
    with store.open(key) as f:
        assert f.read() == b"\xff\xd8 jpeg bytes"
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(FileNotFoundError):
        store.open(key)


def test_objects_are_fanned_out_into_subfolders(store, tmp_path):
    key = "abcdEFGH_-12345678"
    store.save(key, b"data")
    path = store.path(key)
    assert path == tmp_path / "photos" / "ab" / "cd" / f"{key}.jpg"
    assert path.read_bytes() == b"data"


def test_save_replaces_existing_bytes(store):
    key = new_key()
    store.save(key, b"first")
    store.save(key, b"second")
    with store.open(key) as f:
        assert f.read() == b"second"


def test_save_leaves_no_temp_files(store, tmp_path):
    keys = [new_key() for _ in range(20)]
    for key in keys:
        store.save(key, os.urandom(1000))
    files = all_files(tmp_path / "photos")
    assert files == sorted(str(store.path(k).relative_to(tmp_path / "photos")) for k in keys)


def test_save_syncs_before_renaming(store, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(storage.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(storage.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    store.save(new_key(), b"data")
    assert calls[:2] == ["fsync", "replace"]


def test_failed_save_leaves_nothing_behind(store, tmp_path, monkeypatch):
    key = new_key()

    def broken_replace(src, dst):
        raise OSError("disk said no")

    monkeypatch.setattr(storage.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk said no"):
        store.save(key, b"data")
    assert not store.exists(key)
    assert all_files(tmp_path / "photos") == []


def test_failed_save_keeps_the_old_bytes(store, monkeypatch):
    key = new_key()
    store.save(key, b"old")
    monkeypatch.setattr(storage.os, "replace", lambda a, b: (_ for _ in ()).throw(OSError("no")))
    with pytest.raises(OSError):
        store.save(key, b"new")
    with store.open(key) as f:
        assert f.read() == b"old"


def test_saved_files_are_readable_by_other_users(store):
    key = new_key()
    store.save(key, b"data")
    assert store.path(key).stat().st_mode & 0o777 == 0o644


def test_delete_of_a_missing_key_is_fine(store):
    store.delete(new_key())


def test_exists_is_false_for_unknown_keys(store):
    assert store.exists(new_key()) is False


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused(store, key, tmp_path):
    for call in (
        lambda: store.save(key, b"data"),
        lambda: store.open(key),
        lambda: store.path(key),
        lambda: store.delete(key),
        lambda: store.exists(key),
    ):
        with pytest.raises(ValueError):
            call()
    assert not (tmp_path / "photos").exists() or all_files(tmp_path / "photos") == []
    assert all_files(tmp_path) == []


def test_non_string_keys_are_refused(store):
    with pytest.raises(ValueError):
        store.path(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.path(b"abcdef")  # type: ignore[arg-type]


def test_init_app_creates_the_folder_and_get_storage_finds_it(tmp_path):
    app = Flask(__name__)
    app.config["PHOTO_DIR"] = str(tmp_path / "instance" / "photos")
    storage.init_app(app)
    assert (tmp_path / "instance" / "photos").is_dir()
    with app.app_context():
        found = get_storage()
        assert found is app.extensions["photo_storage"]
        assert isinstance(found, LocalPhotoStorage)
        key = new_key()
        found.save(key, b"x")
        assert found.path(key).is_relative_to(tmp_path / "instance" / "photos")
