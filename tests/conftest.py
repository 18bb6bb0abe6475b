"""Fixtures: every test gets its own database, built by the real migrations.

The migrations run once per session into a template; each test then gets a copy
(a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL when
TEST_DATABASE_URL is set) and it is thrown away afterwards.

XUNCHA_TEST_DATE=2026-12-31 (or `--test-date`) runs the suite with the clock moved to that date
(10:00 in Asia/Shanghai, the demo estate's zone; or give a time: 2026-12-31T20:00Z) and ticking
on from there (time-machine); `make test-dates` runs the suite on a list of dates. Browser tests
are skipped then: Chromium keeps its own clock.

The folders mirror app/'s packages. platform/ holds the tests of app/'s flat platform modules
(access, security, errors, config, i18n, cli, backup, …) so that this level keeps only what all share:
here, the usual `world` (built with tests/factories.py's build_world) and `api`, the phone's API client.
"""
from __future__ import annotations

import contextvars
import hashlib
import io
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app
from app.config import _normalise_database_url
from app.extensions import db
from app.models import Role
from app.rounds.checklists import sync_checklists

from . import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
TEST_DATE_ZONE = ZoneInfo("Asia/Shanghai")  # a bare XUNCHA_TEST_DATE is 10:00 here
TRAVEL = pytest.StashKey[tuple]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--test-date", default=os.environ.get("XUNCHA_TEST_DATE") or None, metavar="DATE",
                     help="run with the clock moved to DATE (2026-12-31: 10:00 in Asia/Shanghai; or an ISO "
                          "date and time with its offset, 2026-12-31T20:00Z), ticking on; default: "
                          "$XUNCHA_TEST_DATE, else the real clock")


def clock_moment(text: str) -> datetime:
    """The moment a --test-date names: a date (10:00 in Asia/Shanghai) or an aware ISO date and time."""
    try:
        return datetime.combine(date.fromisoformat(text), time(10), TEST_DATE_ZONE)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise pytest.UsageError(f"XUNCHA_TEST_DATE={text!r}: give a date (2026-12-31) or a date and time "
                                "with its offset (2026-12-31T20:00Z)") from None
    if moment.tzinfo is None:
        raise pytest.UsageError(f"XUNCHA_TEST_DATE={text!r}: give the time's offset (Z, +08:00, …)")
    return moment


def pytest_configure(config: pytest.Config) -> None:
    text = config.getoption("--test-date")
    if not text:
        return
    moment = clock_moment(text)
    # A POSIX timestamp, not the aware datetime: given a zone, time-machine would also change TZ.
    traveller = time_machine.travel(moment.timestamp(), tick=True)
    traveller.start()
    config.stash[TRAVEL] = (moment, traveller)


def pytest_unconfigure(config: pytest.Config) -> None:
    travelled = config.stash.get(TRAVEL, None)
    if travelled is not None:
        travelled[1].stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    travelled = config.stash.get(TRAVEL, None)
    if travelled is None:
        return None
    moment = travelled[0]
    return (f"clock moved to {moment.isoformat()} ({moment.astimezone(TEST_DATE_ZONE):%Y-%m-%d %H:%M %a} "
            f"in Asia/Shanghai), ticking; TZ={os.environ.get('TZ', '(unset)')}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.stash.get(TRAVEL, None) is None:
        return
    skip = pytest.mark.skip(reason="XUNCHA_TEST_DATE: a browser test runs on the real clock (Chromium keeps its own)")
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)


def base_config(tmp: Path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp / "instance"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PHOTO_DIR": str(tmp / "photos"),
        "SECRET_KEY": "test-secret-key",
        "RATELIMIT_STORAGE_URI": "memory://",
    }


class Backend:
    """Creates and drops whole test databases on SQLite files or on a PostgreSQL server."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pg_admin = None
        if TEST_DATABASE_URL:
            self.pg_admin = sa.create_engine(_normalise_database_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")

    @property
    def name(self) -> str:
        return "postgresql" if self.pg_admin else "sqlite"

    def new_url(self, template: str | None = None) -> tuple[str, str]:
        """A new empty database (or a copy of `template`): returns (url, handle)."""
        if self.pg_admin is None:
            path = self.root / f"{uuid.uuid4().hex}.db"
            if template:
                shutil.copyfile(template, path)
            return f"sqlite:///{path}", str(path)
        name = f"xuncha_test_{uuid.uuid4().hex[:16]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.pg_admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
        return self.pg_admin.url.set(database=name).render_as_string(hide_password=False), name

    def drop(self, handle: str) -> None:
        if self.pg_admin is None:
            for suffix in ("", "-wal", "-shm"):
                Path(handle + suffix).unlink(missing_ok=True)
            return
        with self.pg_admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{handle}" WITH (FORCE)')


@pytest.fixture(scope="session")
def backend(tmp_path_factory) -> Backend:
    b = Backend(tmp_path_factory.mktemp("databases"))
    yield b
    if b.pg_admin is not None:
        b.pg_admin.dispose()


@pytest.fixture(scope="session")
def migrated_template(backend: Backend, tmp_path_factory) -> str:
    """A database built by running every migration, with the checklists loaded."""
    url, handle = backend.new_url()
    app = create_app(base_config(tmp_path_factory.mktemp("template"), url))
    with app.app_context():
        upgrade()
        sync_checklists(db.session)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    yield handle
    backend.drop(handle)


@pytest.fixture
def app(backend: Backend, migrated_template: str, tmp_path):
    url, handle = backend.new_url(template=migrated_template)
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    backend.drop(handle)


@pytest.fixture
def empty_database_app(backend: Backend, tmp_path):
    """An app on a database with no tables at all (for migration tests)."""
    url, handle = backend.new_url()
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    backend.drop(handle)


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    The test's own session is committed first (so the request sees the test's
    data and no SQLite write lock is held) and expired afterwards (so the test
    reads what the request really stored, not what its session remembers).
    """

    def open(self, *args, **kwargs):
        if not has_app_context():  # a redirect followed inside an isolated request
            return super().open(*args, **kwargs)
        db.session.commit()
        kwargs.setdefault("buffered", True)  # a streamed body (CSV) is read inside the request's context
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_from(html: str) -> str:
    m = CSRF_META.search(html) or CSRF_INPUT.search(html)
    assert m, "no CSRF token on the page"
    return next(g for g in m.groups() if g)


@dataclass
class AuthActions:
    client: object

    def csrf(self) -> str:
        """A CSRF token for this client's session (the login page, or the landing page it redirects to)."""
        return csrf_from(self.client.get("/login", follow_redirects=True).get_data(as_text=True))

    def login(self, username: str, password: str = factories.PASSWORD, **kw):
        token = self.csrf()
        return self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}, **kw
        )

    def logout(self):
        token = self.csrf()
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


# --------------------------------------------------------------------------- the shared test world


@pytest.fixture
def world(app) -> factories.World:
    """The usual world (tests/factories.py: build_world): an estate with one building of one floor and one
    stairwell; its steward amy (world["steward"]) and desk, both of the whole estate; a second estate
    (world["other"]) with its desk, far-desk. A module that needs another world defines its own `world`
    on factories.build_world."""
    w = factories.build_world(floors=1, stairwells=True, other=True)
    w.add_person("steward", Role.STEWARD, "estate", username="amy")
    w.add_person("desk", Role.DESK, "estate")
    w.add_person("far_desk", Role.DESK, "other")
    return w


# --------------------------------------------------------------------------- the phone's API client


class Api:
    """The phone's JSON API as one signed-in user: its session cookie, and its CSRF token on every write."""

    def __init__(self, client, auth: AuthActions) -> None:
        self.client, self.auth = client, auth
        self.token = None

    def login(self, username: str, password: str = factories.PASSWORD) -> None:
        """Sign in as `username` (whoever was signed in before is signed out first)."""
        self.auth.logout()
        assert self.auth.login(username, password).status_code == 302
        self.token = self.auth.csrf()

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def post(self, path: str, json):
        return self.client.post(path, json=json, headers={"X-CSRFToken": self.token})

    def upload(self, photo_uuid: str, data: bytes, *, sha256: str | None = None, filename: str = "x.jpg", **owner):
        """PUT a photo as the phone does: its owner (finding_uuid=… or record_uuid=…) and its SHA-256."""
        return self.client.put(
            f"/api/v1/photos/{photo_uuid}",
            data={**owner, "sha256": sha256 or hashlib.sha256(data).hexdigest(), "file": (io.BytesIO(data), filename)},
            headers={"X-CSRFToken": self.token}, content_type="multipart/form-data")


@pytest.fixture
def api(client, auth) -> Api:
    return Api(client, auth)
