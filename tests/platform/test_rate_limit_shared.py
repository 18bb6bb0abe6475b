"""The login rate limit holds across app servers (Redis), and counts the client behind nginx.

Two gunicorn servers (separate processes, two workers each, as on two hosts) share one database,
one SECRET_KEY and one Redis. Each test uses its own key prefix in Redis and removes its keys
before and after. Flask-Limiter's `limiter` is one object per process, so two apps built in one
process would share its storage whatever the config says: only separate processes prove it.
"""
from __future__ import annotations

import http.cookiejar
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis

from app import create_app
from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import Role

from tests import factories
from tests.conftest import base_config, csrf_from
from tests.photos.test_storage_s3 import free_port

REDIS_URL = os.environ.get("XUNCHA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
START_TIMEOUT_S = 30
# A lower limit than the default (LOGIN_FAILURE_LIMIT, "10 per 15 minutes"): each attempt costs a
# scrypt check on the server, and the limit's size is not what is tested here.
LIMIT = 4
LOGIN_FAILURE_LIMIT = f"{LIMIT} per 15 minutes"


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the real Redis; its keys are removed before and after."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        client.close()
        message = f"Redis is not reachable at {REDIS_URL} ({exc}); start it or set XUNCHA_TEST_REDIS_URL"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    prefix = f"xuncha-test-{uuid.uuid4().hex[:12]}"

    def clear() -> None:
        for key in client.scan_iter(match=f"*{prefix}*", count=1000):
            client.delete(key)

    clear()
    yield prefix, client
    clear()
    client.close()


class Server:
    """`gunicorn -w 2 'app:create_app()'` on a free local port, as in docs/deploy.md."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "XUNCHA_ENV": "development", **env}
        self.log_path = log

    def __enter__(self) -> "Server":
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{self.port}",
                 "app:create_app()"], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"gunicorn did not answer /healthz within {START_TIMEOUT_S} s:\n{self.log()}")
            time.sleep(0.05)  # polling interval while waiting for the condition above

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


class Browser:
    """One phone: a cookie jar shared by every server (the signed session works on all of them)."""

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def request(self, url: str, data: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, headers={"Accept-Language": "en", **(headers or {})})
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode(errors="replace")

    def login(self, server: Server, password: str, address: str, token_from: Server | None = None) -> int:
        """A sign-in as the client at `address` (what nginx puts in X-Forwarded-For); the CSRF token
        may come from another server than the one the form is posted to."""
        status, page = self.request(f"{(token_from or server).url}/login")
        assert status == 200, page[:500]
        status, page = self.request(f"{server.url}/login",
                                    {"username": "amy", "password": password, "csrf_token": csrf_from(page)},
                                    {"X-Forwarded-For": address})
        assert status in (200, 302, 429), f"{status}: {page[:1000]}"
        if status == 302:
            self.cookies.clear()  # signed out: the next attempt starts from a fresh session
        return status


@pytest.fixture
def shared_world(app, tmp_path):
    """A database the servers share, with one steward in it."""
    factories.build_world(buildings={}, people={"amy": (Role.STEWARD, "estate")}).save()
    return {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "one-key-on-every-host",
            "PHOTO_DIR": str(tmp_path / "photos"), "PROXY_FIX_X_FOR": "1", "LOGIN_FAILURE_LIMIT": LOGIN_FAILURE_LIMIT}


def test_failed_sign_ins_on_one_server_are_refused_on_the_other(shared_world, redis_prefix, tmp_path):
    prefix, client = redis_prefix
    env = {**shared_world, "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    phone = Browser()
    with ExitStack() as stack:
        a = stack.enter_context(Server(env, tmp_path / "a.log"))
        b = stack.enter_context(Server(env, tmp_path / "b.log"))

        # All failures on A: B refuses the next attempt, even with the right password.
        for _ in range(LIMIT):
            assert phone.login(a, "guess", "203.0.113.7") == 200
        assert phone.login(b, factories.PASSWORD, "203.0.113.7") == 429
        assert phone.login(a, factories.PASSWORD, "203.0.113.7") == 429
        assert any(client.scan_iter(match=f"*{prefix}*")), "the counts are kept in Redis"

        # Failures spread over both servers (and their workers), none reaching the limit alone.
        for i in range(LIMIT):
            assert phone.login((a, b)[i % 2], "guess", "203.0.113.8", token_from=(b, a)[i % 2]) == 200
        assert phone.login(a, factories.PASSWORD, "203.0.113.8") == 429
        assert phone.login(b, factories.PASSWORD, "203.0.113.8") == 429

        # Someone else behind the same proxy (another forwarded address) signs in on either server.
        assert phone.login(a, factories.PASSWORD, "198.51.100.20") == 302
        assert phone.login(b, factories.PASSWORD, "198.51.100.20") == 302


def test_without_a_shared_store_each_server_counts_alone(shared_world, tmp_path):
    """The control: with memory:// (the default) the same failures on A leave B open, so the test
    above would fail if the servers did not share their counts."""
    env = {**shared_world, "RATELIMIT_STORAGE_URI": "memory://"}
    phone = Browser()
    with Server(env, tmp_path / "a.log") as a, Server(env, tmp_path / "b.log") as b:
        for _ in range(LIMIT):
            assert phone.login(a, "guess", "203.0.113.9") == 200
        assert phone.login(b, "guess", "203.0.113.9") == 200


# Which address is counted: ProxyFix off by default, on when the app runs behind nginx


@pytest.fixture
def make_app(backend, migrated_template, tmp_path):
    made = []

    def make(**config):
        url, handle = backend.new_url(template=migrated_template)
        app = create_app({**base_config(tmp_path, url), "LOGIN_FAILURE_LIMIT": LOGIN_FAILURE_LIMIT, **config})
        made.append((app, handle))
        with app.app_context():
            estate = factories.estate()
            factories.user(Role.STEWARD, username="amy", estates=[estate])
            db.session.commit()
            db.session.remove()
        return app

    yield make
    for app, handle in made:
        with app.app_context():
            db.engine.dispose()
        backend.drop(handle)


def attempt(app, password: str, remote: str, forwarded: str | None) -> int:
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=remote, HTTP_ACCEPT_LANGUAGE="en")
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    token = csrf_from(client.get("/login", headers=headers).get_data(as_text=True))
    return client.post("/login", data={"username": "amy", "password": password, "csrf_token": token},
                       headers=headers).status_code


def test_by_default_x_forwarded_for_is_ignored_so_it_cannot_be_spoofed(make_app):
    app = make_app()
    assert app.config["PROXY_FIX_X_FOR"] == 0
    for i in range(LIMIT):
        assert attempt(app, "guess", "192.0.2.50", f"10.0.0.{i}") == 200
    # A new made-up X-Forwarded-For does not get the attacker a fresh count.
    assert attempt(app, factories.PASSWORD, "192.0.2.50", "10.9.9.9") == 429
    assert attempt(app, factories.PASSWORD, "192.0.2.51", None) == 302


def test_behind_a_proxy_the_forwarded_client_is_counted(make_app):
    app = make_app(PROXY_FIX_X_FOR=1)
    nginx = "127.0.0.1"
    for _ in range(LIMIT):
        assert attempt(app, "guess", nginx, "203.0.113.30") == 200
    assert attempt(app, factories.PASSWORD, nginx, "203.0.113.30") == 429
    # Everyone else comes through the same nginx and is not locked out with the attacker.
    assert attempt(app, factories.PASSWORD, nginx, "203.0.113.31") == 302
    # With one proxy trusted, only the address nginx appended counts, not what the client wrote before it.
    assert attempt(app, factories.PASSWORD, nginx, "198.51.100.1, 203.0.113.30") == 429


def test_a_hung_redis_fails_a_sign_in_in_seconds_and_never_lets_it_through(make_app):
    """Redis accepts the connection and never answers: the sign-in is refused (fail closed) after
    the short socket timeout, instead of holding the worker or skipping the limit."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{listener.getsockname()[1]}/0",
                       PROPAGATE_EXCEPTIONS=False)
        assert app.config["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] == 2
        started = time.monotonic()
        status = attempt(app, factories.PASSWORD, "192.0.2.60", None)
        elapsed = time.monotonic() - started
        assert status == 500 and accepted, "the limit was checked against the hung Redis and failed"
        assert elapsed < 10
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()
