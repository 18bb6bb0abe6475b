"""Crash consistency: a real gunicorn worker killed (SIGKILL) in the middle of a round's completion, a
photo upload and a repair with its "after" photo leaves no partial round and, once the sweep has run, no
file without a row; the phone's retry then stores each once.

The worker is caught mid-request by the database itself, no hook of ours: the test holds the lock the
request needs next (on SQLite the write lock, on PostgreSQL a table lock: EXCLUSIVE on `photo`, or on
`audit_entry`, which is written last, at the commit) and kills the worker once it waits there (the
worker holds the writer queue's lock file, or PostgreSQL lists it waiting on a lock), or once the photo's
files are on disk. Then the lock is let go, gunicorn starts a new worker and the same request is sent again.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid as uuidlib
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import Finding, Photo, RepairTicket, Role, Round, RoundStatus, TicketStatus
from app.photos.storage import get_storage
from app.photos.sweep import sweep_orphans
from app.repairs import tickets

from .. import factories

WAIT_S = 30


def wait_for(condition, what: str, timeout: float = WAIT_S):  # noqa: ANN001, ANN201
    """Poll `condition` until it holds (a condition, not a nap in place of one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn app:create_app()` with one sync worker, on the test's database and photo folder."""

    def __init__(self, app, tmp: Path) -> None:  # noqa: ANN001
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp / "gunicorn.log", "w+")  # noqa: SIM115
        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "PHOTO_DIR": app.config["PHOTO_DIR"],
               "SECRET_KEY": app.config["SECRET_KEY"], "RATELIMIT_STORAGE_URI": "memory://"}
        self.master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "sync", "--timeout", "120",
             "--bind", f"127.0.0.1:{self.port}", "app:create_app()"],
            cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.worker = self.ready()

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.master.pid}/task/{self.master.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def ready(self, not_pid: int | None = None) -> int:
        def answering() -> int | None:
            assert self.master.poll() is None, self.output()
            workers = [p for p in self.workers() if p != not_pid]
            if not workers:
                return None
            try:
                return workers[0] if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200 else None
            except requests.RequestException:
                return None
        return wait_for(answering, "gunicorn's worker")

    def kill_worker(self) -> None:
        """SIGKILL: no exception, no rollback, no cleanup in the worker; the master starts another."""
        os.kill(self.worker, signal.SIGKILL)
        self.worker = self.ready(not_pid=self.worker)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:]

    def stop(self) -> None:
        self.master.terminate()
        try:
            self.master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.master.kill()
            self.master.wait()
        self.log.close()


class Phone:
    """A signed-in browser session against the server, sending what the phone sends."""

    def __init__(self, url: str, username: str) -> None:
        self.url, self.http = url, requests.Session()
        page = self.http.get(f"{url}/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        signed_in = self.http.post(f"{url}/login", data={"username": username, "password": factories.PASSWORD,
                                                         "csrf_token": token}, allow_redirects=False)
        assert signed_in.status_code == 302, signed_in.text[:300]
        self.token = self.http.get(f"{url}/api/v1/session").json()["csrf_token"]

    def send(self, method: str, path: str, **kw) -> requests.Response:
        return self.http.request(method, f"{self.url}{path}", headers={"X-CSRFToken": self.token}, timeout=WAIT_S,
                                 **kw)


class Lock:
    """Holds what the next write of a request needs, from outside the app."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.url = app.config["SQLALCHEMY_DATABASE_URI"]
        self.sqlite = self.url.startswith("sqlite")
        self.engine = None if self.sqlite else sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        self.conn = None

    def hold(self, table: str) -> None:
        db.session.commit()  # outside a request the test's own session would hold SQLite's write lock
        if self.sqlite:  # the write lock: every writer waits, on SQLite there is no finer one
            self.conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        else:  # plain reads go on; a SELECT … FOR UPDATE or an INSERT into `table` waits
            self.conn = self.engine.connect()
            self.conn.exec_driver_sql(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')

    def someone_waits(self) -> bool:
        if self.sqlite:  # the worker holds the writer queue's lock file while SQLite makes it wait
            fd = os.open(self.url.removeprefix("sqlite:///") + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            else:
                fcntl.flock(fd, fcntl.LOCK_UN)
                return False
            finally:
                os.close(fd)
        with self.engine.connect() as other:
            return bool(other.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()").scalar())

    def release(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            try:
                conn.rollback() if not self.sqlite else conn.execute("ROLLBACK")
            except (sqlite3.Error, sa.exc.SQLAlchemyError):
                pass  # the lock was never taken
            finally:
                conn.close()

    def close(self) -> None:
        self.release()
        if self.engine is not None:
            self.engine.dispose()


@pytest.fixture
def world(app):
    w = factories.build_world(floors=1, stairwells=True)
    w.add_person("steward", Role.STEWARD, "estate", username="amy")
    w.add_person("desk", Role.DESK, "estate")
    db.session.commit()
    return w


@pytest.fixture
def server(app, world, tmp_path):
    db.session.commit()  # the test holds no transaction while gunicorn works
    g = Gunicorn(app, tmp_path)
    lock = Lock(app)
    try:
        yield g, lock
    finally:
        try:
            lock.close()
        finally:
            g.stop()  # never a server left running


def files_on_disk(app) -> set[str]:  # noqa: ANN001
    return {p.name.removesuffix(".jpg") for p in Path(app.config["PHOTO_DIR"]).glob("*/*/*")}


def read(query):  # noqa: ANN001, ANN201
    """One read of the test's own, its transaction ended at once (on SQLite it holds the write lock)."""
    db.session.rollback()
    try:
        return query()
    finally:
        db.session.rollback()


def named_files() -> set[str]:
    return read(lambda: {k for row in db.session.execute(sa.select(Photo.display_key, Photo.thumb_key))
                         for k in row if k})


def count(model) -> int:  # noqa: ANN001
    return read(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(model)))


def ticket_status(ticket_id: int) -> TicketStatus:
    return read(lambda: db.session.get(RepairTicket, ticket_id).status)


def test_a_worker_killed_mid_completion_leaves_no_partial_round(app, world, server):
    g, lock = server
    phone = Phone(g.url, "amy")
    pack = phone.send("GET", "/api/v1/offline-pack").json()
    estate_id, building_id = world["estate"].id, world["building"].id
    db.session.commit()
    round_uuid = str(uuidlib.uuid4())
    plan = pack["plans"][f"corridor/{estate_id}/{building_id}/"]  # walked offline: start and completion together
    findings = [{"uuid": str(uuidlib.uuid4()), "checkpoint": c["key"], "item_code": code, "result": "fine"}
                for c in plan["checkpoints"] for code in c["items"]]
    body = {"findings": findings, "start": {"kind": "corridor", "estate_id": estate_id, "building_id": building_id}}
    lock.hold("audit_entry")  # PostgreSQL: the round and its findings are inserted, the commit's audit waits
    sent = _send_in_background(phone, "POST", f"/api/v1/rounds/{round_uuid}/completion", json=body)
    wait_for(lock.someone_waits, "the completion waiting in its transaction")
    g.kill_worker()
    lock.release()
    sent.join()
    assert count(Round) == 0 and count(Finding) == 0, "nothing of the round is left"

    again = phone.send("POST", f"/api/v1/rounds/{round_uuid}/completion", json=body)  # the phone's retry
    assert again.status_code == 201, again.text
    assert phone.send("POST", f"/api/v1/rounds/{round_uuid}/completion", json=body).status_code == 201
    assert count(Round) == 1 and count(Finding) == len(findings)
    assert read(lambda: db.session.scalars(sa.select(Round)).one().status) is RoundStatus.COMPLETED


def test_a_worker_killed_mid_photo_upload_leaves_no_file_once_swept(app, world, server):
    g, lock = server
    phone = Phone(g.url, "amy")
    data = factories.jpeg_bytes()
    photo_uuid, finding_uuid = str(uuidlib.uuid4()), str(uuidlib.uuid4())
    form = {"finding_uuid": finding_uuid, "sha256": hashlib.sha256(data).hexdigest()}
    lock.hold("photo")  # its files are written, then the row waits
    sent = _send_in_background(phone, "PUT", f"/api/v1/photos/{photo_uuid}", data=form,
                               files={"file": ("x.jpg", data, "image/jpeg")})
    wait_for(lambda: len(files_on_disk(app)) == 2, "the photo's two files on disk")
    g.kill_worker()
    lock.release()
    sent.join()
    assert count(Photo) == 0
    orphans = files_on_disk(app)
    assert len(orphans) == 2  # what the sweep is for

    kept = read(lambda: sweep_orphans(db.session, get_storage()))  # within the grace period: an upload may be on its way
    assert kept.removed == [] and sorted(kept.young) == sorted(orphans)
    swept = read(lambda: sweep_orphans(db.session, get_storage(), grace=timedelta(0)))
    assert sorted(swept.removed) == sorted(orphans) and files_on_disk(app) == set()

    again = phone.send("PUT", f"/api/v1/photos/{photo_uuid}", data=form, files={"file": ("x.jpg", data, "image/jpeg")})
    assert again.status_code == 201, again.text
    assert phone.send("PUT", f"/api/v1/photos/{photo_uuid}", data=form,
                      files={"file": ("x.jpg", data, "image/jpeg")}).status_code == 201
    assert count(Photo) == 1 and files_on_disk(app) == named_files() and len(named_files()) == 2


def test_a_worker_killed_mid_repair_with_its_photo_leaves_no_file_once_swept(app, world, server, runner):
    g, lock = server
    finding = factories.finding_with_photo(world["steward"], world["estate"], world["building"])
    ticket = tickets.ticket_for_defect(db.session, finding)
    tickets.dispatch(ticket, world["desk"], to="工程部")
    db.session.commit()
    ticket_id, before = ticket.id, files_on_disk(app)
    db.session.commit()
    desk = Phone(g.url, "desk")
    data = factories.jpeg_bytes(color=(30, 200, 30))
    form = {"csrf_token": desk.token, "work_done": "換燈管"}
    lock.hold("photo")  # PostgreSQL: the "after" photo's files are written, its row waits
    sent = _send_in_background(desk, "POST", f"/tickets/{ticket_id}/repair", data=form,
                               files={"photo": ("after.jpg", data, "image/jpeg")}, allow_redirects=False)
    wait_for(lock.someone_waits, "the repair waiting in its transaction")
    g.kill_worker()
    lock.release()
    sent.join()
    assert ticket_status(ticket_id) is TicketStatus.DISPATCHED
    assert count(Photo) == 1  # the defect's photo only

    result = runner.invoke(args=["sweep-photos", "--grace-hours", "0"])
    assert result.exit_code == 0, result.output
    assert files_on_disk(app) == before == named_files()  # no file without a row
    assert result.output.strip().endswith("named by a row")

    again = desk.send("POST", f"/tickets/{ticket_id}/repair", data=form,
                      files={"photo": ("after.jpg", data, "image/jpeg")}, allow_redirects=False)
    assert again.status_code == 302, again.text[:500]
    assert ticket_status(ticket_id) is TicketStatus.REPAIRED
    assert count(Photo) == 2 and files_on_disk(app) == named_files()


class _send_in_background:  # noqa: N801 - used like a function
    """The request in a thread; its connection is cut when the worker dies (an error is expected)."""

    def __init__(self, phone: Phone, method: str, path: str, **kw) -> None:
        import threading

        self.error = None
        self.thread = threading.Thread(target=self._run, args=(phone, method, path), kwargs=kw, daemon=True)
        self.thread.start()

    def _run(self, phone, method, path, **kw) -> None:  # noqa: ANN001
        try:
            self.response = phone.send(method, path, **kw)
        except requests.RequestException as exc:
            self.error = exc

    def join(self) -> None:
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive()
        assert self.error is not None or self.response.status_code >= 500, "the request was cut off"


def test_files_saved_in_a_transaction_that_rolls_back_go_with_it(app, world):
    """Without a crash no sweep is needed: a refused or failed transaction deletes the files it saved."""
    from app.photos import uploads

    storage = get_storage()

    def after_photo():  # noqa: ANN202
        return uploads.store_form_photo(db.session, world["desk"], None, factories.jpeg_bytes(),
                                        timezone_name="Asia/Shanghai", max_bytes=app.config["PHOTO_MAX_BYTES"],
                                        max_pixels=app.config["PHOTO_MAX_PIXELS"])

    failed = after_photo()
    keys = (failed.display_key, failed.thumb_key)
    assert all(storage.exists(k) for k in keys)
    db.session.rollback()
    assert not any(storage.exists(k) for k in keys)
    kept = after_photo()
    db.session.commit()
    db.session.rollback()  # a later transaction's rollback leaves the committed files alone
    assert storage.exists(kept.display_key) and storage.exists(kept.thumb_key)
    assert sweep_orphans(db.session, storage, grace=timedelta(0)).removed == []
