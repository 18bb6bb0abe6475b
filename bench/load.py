"""Load with nothing lost: many stewards syncing rounds and photos at once, on SQLite and PostgreSQL.

Run from the repo root:  .venv/bin/python bench/load.py [--seconds 60] [--clients 50] [--db both]
Other options: --db sqlite|postgresql|both, --workers/--threads (gunicorn gthread, default 3 x 4),
--repeat/--cut/--twin (shares of write requests sent again, cut, sent twice at once), --pg URL
(the PostgreSQL server; default postgresql://postgres@127.0.0.1:5432), --keep (keep the temp dirs).

For each database a throwaway instance is made: SQLite in a temp dir, or a PostgreSQL database
created for the run (createdb xuncha_load_<pid>) and dropped afterwards. It is migrated with the
real CLI and gets one estate with 2 x --clients corridor buildings (one stairwell of 3 floors) and
--clients stewards. The app runs under gunicorn (several gthread workers) on 127.0.0.1. Each
client thread is one steward's phone: it signs in through the login form (its CSRF token from
the page, then from /api/v1/session) and then, until time is up, walks rounds in its own two
buildings and in its partner's (two phones in one building at once, so defects at one place
race for one ticket) and sends its outbox as the phone does, oldest first:

  start     POST /api/v1/rounds                    the round, UUID made on the phone
  plan      GET  /api/v1/rounds/<uuid>             the checkpoints and items
  complete  POST /api/v1/rounds/<uuid>/completion  every item answered; on 2 rounds in 3 one to
                                                   three defects (each becomes a repair ticket or
                                                   is seen again on the open one at that place)
  photo     PUT  /api/v1/photos/<uuid>             a 2048x1536 JPEG of about 400 KB per defect
                                                   whose item needs one

An entry counts as stored only on a 2xx JSON answer echoing its UUID (as static/js/sync.js does);
network errors and 5xx are retried with back-off, anything else "needs attention". Faults:
  repeat  the same request again after its answer (a phone whose answer was lost)
  cut     the first attempt is cut: the whole request sent and the socket reset or closed without
          reading the answer, half the body sent and the socket closed, or a client timeout of
          a few ms; then the phone sends it again
  twin    the same request on a second connection at the same moment

Afterwards gunicorn is stopped and every round, finding, ticket and photo (row and stored files)
is counted in the database against what the phones were told: lost = confirmed but missing (or
stored otherwise: another round, not completed, other bytes, files gone, a defect without its
ticket); duplicated = more rows than distinct UUIDs, rows under UUIDs no phone sent, and more than
one open ticket for one place and item; server errors = 5xx answers in gunicorn's access log
(also those to cut connections) or seen by a phone. Figures: completed rounds and photos per
second (wall time), p95 of every answered request and per step. The output ends with one JSON
line per database; the exit status is 1 if anything was lost, duplicated or a server error.
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_common.py

from _common import (  # noqa: E402
    PHOTO_SIZE,
    BenchPhoto,
    CpuSample,
    Instance,
    Phone,
    Server,
    World,
    app_for,
    create_bench_data,
    flask_cli,
    multipart,
    new_uuid,
    pct,
    photo_like_jpeg,
)

BUILDINGS_PER_STEWARD = 2
FLOORS = 3
DISTINCT_PHOTOS = 3
MAX_ATTEMPTS = 12  # per outbox entry: network errors and 5xx are retried with back-off
TICKET_ROUTES = {"engineering", "cleaning", "outside_party"}
ACCESS_LOG_FORMAT = "%(s)s %(m)s %(U)s %(M)s"  # status, method, path, ms


# One phone's outbox


@dataclass
class ClientLog:
    """What one phone sent and what it was told."""

    sent_rounds: set[str] = field(default_factory=set)
    sent_findings: set[str] = field(default_factory=set)
    sent_photos: set[str] = field(default_factory=set)
    started: set[str] = field(default_factory=set)  # start confirmed
    completed: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # round -> (finding, result, route)
    photos: dict[str, tuple[str, str]] = field(default_factory=dict)  # photo -> (finding uuid, sha256)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    statuses: Counter = field(default_factory=Counter)
    server_errors: int = 0
    attention: list[str] = field(default_factory=list)  # 4xx or an answer without the echo
    failures: list[str] = field(default_factory=list)  # gave up after MAX_ATTEMPTS
    faults: Counter = field(default_factory=Counter)
    retries: int = 0
    began: float = 0.0
    ended: float = 0.0


STEPS = ("start", "plan", "complete", "photo")


class Gone(Exception):
    """An outbox entry the phone could not deliver (it would stay on the phone)."""


def raw_request(port: int, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}",
            "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def cut_request(port: int, headers: dict[str, str], method: str, path: str, body: bytes, mode: str,
                rng: random.Random) -> None:
    """Send the request and break the connection: `reset` (all sent, then RST), `close` (all sent,
    then FIN, answer unread), `mid_body` (half the body, then FIN), `timeout` (all sent, a client
    timeout of 2-40 ms while waiting for the answer)."""
    data = raw_request(port, method, path, headers, body)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        if mode == "mid_body":
            sock.sendall(data[: len(data) - max(1, len(body) // 2)])
        else:
            sock.sendall(data)
        if mode == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        elif mode == "timeout":
            sock.settimeout(rng.uniform(0.002, 0.040))
            try:
                sock.recv(1)
            except (TimeoutError, OSError):
                pass
    finally:
        sock.close()


def one_shot(port: int, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def echoes(status: int, data: bytes, uuid: str) -> bool:
    if not 200 <= status < 300:
        return False
    try:
        return json.loads(data).get("uuid") == uuid
    except (ValueError, AttributeError):
        return False


@dataclass
class Faults:
    repeat: float
    cut: float
    twin: float


class LoadPhone:
    """A steward's phone sending its outbox: retries, and the faults of a real network."""

    def __init__(self, port: int, username: str, faults: Faults, rng: random.Random, log: ClientLog) -> None:
        self.port, self.faults, self.rng, self.log = port, faults, rng, log
        self.phone = Phone(port)
        self.phone.conn.timeout = 120
        self.phone.login(username)

    def _send(self, step: str, method: str, path: str, body: bytes | None, content_type: str | None
              ) -> tuple[int, bytes] | None:
        """One attempt on the kept-alive connection; None on a network error."""
        start = time.perf_counter()
        try:
            status, data = self.phone.request(method, path, body, content_type)
        except (OSError, http.client.HTTPException):
            self.phone.conn.close()
            return None
        self.log.latencies[step].append((time.perf_counter() - start) * 1000)
        self.log.statuses[status] += 1
        if status >= 500:
            self.log.server_errors += 1
        return status, data

    def get(self, step: str, path: str) -> bytes:
        for attempt in range(MAX_ATTEMPTS):
            answer = self._send(step, "GET", path, None, None)
            if answer and answer[0] == 200:
                return answer[1]
            if answer and answer[0] < 500:
                self.log.attention.append(f"{step} GET {path}: {answer[0]} {answer[1][:200]!r}")
                raise Gone(step)
            self.log.retries += 1
            time.sleep(min(1.0, 0.05 * 2 ** attempt))
        self.log.failures.append(f"{step} GET {path}: no answer after {MAX_ATTEMPTS} attempts")
        raise Gone(step)

    def deliver(self, step: str, method: str, path: str, body: bytes, content_type: str, echo: str) -> bytes:
        """Send one outbox entry until a 2xx answer echoes `echo` (with the faults drawn for it)."""
        headers = self.phone.headers(content_type)
        if self.rng.random() < self.faults.cut:
            mode = self.rng.choice(("reset", "close", "mid_body", "timeout"))
            self.log.faults[f"cut_{mode}"] += 1
            try:
                cut_request(self.port, headers, method, path, body, mode, self.rng)
            except OSError:
                pass
        twin_answer: list[tuple[int, bytes] | Exception] = []
        twin = None
        if self.rng.random() < self.faults.twin:
            self.log.faults["twin"] += 1

            def run_twin() -> None:
                try:
                    twin_answer.append(one_shot(self.port, method, path, headers, body))
                except Exception as exc:  # noqa: BLE001 - reported below
                    twin_answer.append(exc)

            twin = threading.Thread(target=run_twin, daemon=True)
            twin.start()
        try:
            data = self._deliver(step, method, path, body, content_type, echo)
        finally:
            if twin is not None:
                twin.join(timeout=130)
                self._check_twin(step, path, echo, twin_answer)
        if self.rng.random() < self.faults.repeat:  # the answer was "lost": the phone sends it again
            self.log.faults["repeat"] += 1
            again = self._deliver(step, method, path, body, content_type, echo)
            if again != data:
                self.log.attention.append(f"{step} {path}: the repeat answered differently")
        return data

    def _check_twin(self, step: str, path: str, echo: str, answer: list) -> None:
        if not answer or isinstance(answer[0], Exception):
            return  # a network error on the twin: the phone would send it again, as the main request did
        status, data = answer[0]
        self.log.statuses[status] += 1
        if status >= 500:
            self.log.server_errors += 1
        elif not echoes(status, data, echo):
            self.log.attention.append(f"{step} {path} (twin): {status} {data[:200]!r}")

    def _deliver(self, step: str, method: str, path: str, body: bytes, content_type: str, echo: str) -> bytes:
        for attempt in range(MAX_ATTEMPTS):
            answer = self._send(step, method, path, body, content_type)
            if answer is not None:
                status, data = answer
                if echoes(status, data, echo):
                    return data
                if status < 500:
                    self.log.attention.append(f"{step} {method} {path}: {status} {data[:200]!r}")
                    raise Gone(step)
            self.log.retries += 1
            time.sleep(min(1.0, 0.05 * 2 ** attempt))
        self.log.failures.append(f"{step} {method} {path}: no 2xx echo after {MAX_ATTEMPTS} attempts")
        raise Gone(step)

    def close(self) -> None:
        self.phone.close()


def completion(plan: dict, rng: random.Random) -> tuple[dict, list[tuple[str, str, str]], list[str]]:
    """Every item answered fine; on 2 rounds in 3, one to three of them are defects (a reason; a
    photo where the item needs one). Returns (body, [(finding uuid, result, route)], [photo uuids])."""
    items = {i["code"]: i for i in plan["items"]}
    findings = [{"uuid": new_uuid(), "checkpoint": c["key"], "item_code": code, "result": "fine"}
                for c in plan["checkpoints"] for code in c["items"]]
    photos: list[str] = []
    if rng.random() < 2 / 3:
        candidates = [f for f in findings if items[f["item_code"]]["reasons"]]
        for f in rng.sample(candidates, k=min(len(candidates), rng.randint(1, 3))):
            item = items[f["item_code"]]
            f.update(result="defect", reason_code=rng.choice(item["reasons"])["code"])
            if item["photo_required"]:
                f["photo_uuids"] = [new_uuid()]
                photos += f["photo_uuids"]
    body = {"completed_at": datetime.now(timezone.utc).isoformat(), "findings": findings}
    answers = [(f["uuid"], f["result"], items[f["item_code"]]["route"]) for f in findings]
    return body, answers, photos


def walk_round(lp: LoadPhone, world: World, building_id: int, photos: list[BenchPhoto], log: ClientLog) -> None:
    rng = lp.rng
    round_uuid = new_uuid()
    log.sent_rounds.add(round_uuid)
    start = {"uuid": round_uuid, "kind": "corridor", "estate_id": world.estate_id, "building_id": building_id}
    lp.deliver("start", "POST", "/api/v1/rounds", json.dumps(start).encode(), "application/json", round_uuid)
    log.started.add(round_uuid)
    plan = json.loads(lp.get("plan", f"/api/v1/rounds/{round_uuid}"))
    body, answers, photo_uuids = completion(plan, rng)
    log.sent_findings.update(a[0] for a in answers)
    log.sent_photos.update(photo_uuids)
    lp.deliver("complete", "POST", f"/api/v1/rounds/{round_uuid}/completion", json.dumps(body).encode(),
               "application/json", round_uuid)
    log.completed[round_uuid] = answers
    owner = {p: f["uuid"] for f in body["findings"] for p in f.get("photo_uuids", [])}
    for photo_uuid in photo_uuids:
        photo = rng.choice(photos)
        upload, content_type = multipart({"finding_uuid": owner[photo_uuid], "sha256": photo.sha256}, photo.data)
        lp.deliver("photo", "PUT", f"/api/v1/photos/{photo_uuid}", upload, content_type, photo_uuid)
        log.photos[photo_uuid] = (owner[photo_uuid], photo.sha256)


def client(port: int, world: World, index: int, photos: list[BenchPhoto], seconds: float, faults: Faults,
           ready: threading.Barrier, log: ClientLog) -> None:
    """Sign in, wait for the others, then walk rounds until time is up (the last one is finished)."""
    _, username, own = world.stewards[index]
    partner = world.stewards[index ^ 1][2] if (index ^ 1) < len(world.stewards) else []
    buildings = own + partner
    rng = random.Random(index)
    lp = None
    try:
        lp = LoadPhone(port, username, faults, rng, log)
    except Exception as exc:  # noqa: BLE001 - reported; the barrier must still be reached
        log.failures.append(f"login of {username}: {exc!r}")
    ready.wait()
    log.began = time.perf_counter()
    deadline = log.began + seconds
    while lp is not None and time.perf_counter() < deadline and len(log.attention) + len(log.failures) < 50:
        try:
            walk_round(lp, world, rng.choice(buildings), photos, log)
        except Gone:
            pass
        except Exception as exc:  # noqa: BLE001 - the bench's own bug or an odd answer: reported
            log.failures.append(f"{exc!r}")
    log.ended = time.perf_counter()
    if lp is not None:
        lp.close()


# Counting on the server


@dataclass
class Tally:
    name: str
    confirmed: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    unconfirmed: int = 0  # stored, but the phone never got the echo (it would send it again)
    notes: list[str] = field(default_factory=list)


def count_on_server(instance: Instance, logs: list[ClientLog]) -> tuple[list[Tally], dict]:
    """Every round, finding, ticket and photo in the database (and the photos' files) against what
    the phones were told was stored."""
    import sqlalchemy as sa

    from app.photos.storage import get_storage

    completed = {r: answers for log in logs for r, answers in log.completed.items()}
    started = {r for log in logs for r in log.started}
    sent_rounds = {r for log in logs for r in log.sent_rounds}
    sent_findings = {f for log in logs for f in log.sent_findings}
    sent_photos = {p for log in logs for p in log.sent_photos}
    confirmed_photos = {p: v for log in logs for p, v in log.photos.items()}
    confirmed_findings = {f: (r, result, route) for r, answers in completed.items() for f, result, route in answers}

    app = app_for(instance)
    with app.app_context():
        engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with engine.connect() as conn:
            rounds = conn.execute(sa.text('SELECT uuid, status FROM "round"')).all()
            findings = [(row[0], row[1], row[2], row[3], tuple(row[4:10]), row[10]) for row in conn.execute(sa.text(
                'SELECT f.uuid, r.uuid, f.result, f.ticket_id, f.entrance_id, f.floor, f.public_area_id, f.asset_id,'
                ' f.unit_id, f.meter_id, ci.code FROM finding f JOIN "round" r ON r.id = f.round_id'
                ' JOIN checklist_item ci ON ci.id = f.checklist_item_id'))]
            tickets = conn.execute(sa.text(
                "SELECT id, estate_id, item_code, entrance_id, floor, public_area_id, asset_id, unit_id, meter_id,"
                " status, recurrences FROM repair_ticket")).all()
            photos = conn.execute(sa.text(
                "SELECT uuid, status, sha256, finding_uuid, display_key, thumb_key FROM photo")).all()
        engine.dispose()
        storage = get_storage()
        files_missing = sum(1 for p in photos if str(p.status).lower() == "stored" and not (
            p.display_key and p.thumb_key and storage.exists(p.display_key) and storage.exists(p.thumb_key)))
        stored_files = {p.uuid: bool(p.display_key and p.thumb_key and storage.exists(p.display_key)
                                     and storage.exists(p.thumb_key)) for p in photos}

    def status_is(value: object, name: str) -> bool:
        return str(value).lower().rsplit(".", 1)[-1] == name

    # Rounds
    t_rounds = Tally("rounds", confirmed=len(completed), stored=len(rounds))
    by_uuid: dict[str, list] = {}
    for row in rounds:
        by_uuid.setdefault(row.uuid, []).append(row)
    t_rounds.duplicated += len(rounds) - len(by_uuid)
    phantoms = [u for u in by_uuid if u not in sent_rounds]
    t_rounds.duplicated += len(phantoms)
    t_rounds.lost += sum(1 for r in started | set(completed) if r not in by_uuid)  # start or completion confirmed
    t_rounds.lost += sum(1 for r in completed if r in by_uuid and not status_is(by_uuid[r][0].status, "completed"))
    t_rounds.unconfirmed = sum(1 for u, rows in by_uuid.items()
                               if u in sent_rounds and u not in completed and status_is(rows[0].status, "completed"))
    if phantoms:
        t_rounds.notes.append(f"rounds no phone sent: {phantoms[:3]}")

    # Findings
    t_find = Tally("findings", confirmed=len(confirmed_findings), stored=len(findings))
    f_by_uuid: dict[str, list] = {}
    for row in findings:
        f_by_uuid.setdefault(row[0], []).append(row)
    t_find.duplicated += len(findings) - len(f_by_uuid) + sum(1 for u in f_by_uuid if u not in sent_findings)
    for f, (r, result, _route) in confirmed_findings.items():
        rows = f_by_uuid.get(f)
        if not rows or rows[0][1] != r or str(rows[0][2]).lower().rsplit(".", 1)[-1] != result:
            t_find.lost += 1
    t_find.unconfirmed = sum(1 for u in f_by_uuid if u in sent_findings and u not in confirmed_findings)

    # Tickets: every confirmed defect (of a ticket route) points at a ticket; one open ticket per place and item
    t_tick = Tally("tickets")
    ticket_ids = {t.id for t in tickets}
    defects = [(f, rows[0]) for f, (r, result, route) in confirmed_findings.items()
               if result == "defect" and route in TICKET_ROUTES for rows in [f_by_uuid.get(f)] if rows]
    t_tick.confirmed = len({(row[4], row[5]) for _, row in defects})  # distinct place + item with a defect
    t_tick.stored = len(tickets)
    t_tick.lost = sum(1 for _, row in defects if row[3] is None or row[3] not in ticket_ids)
    open_at: Counter = Counter()
    for t in tickets:
        if not (status_is(t.status, "closed") or status_is(t.status, "cancelled")):
            open_at[(t.estate_id, t.item_code, t.entrance_id, t.floor, t.public_area_id, t.asset_id, t.unit_id,
                     t.meter_id)] += 1
    extra_open = sum(n - 1 for n in open_at.values() if n > 1)
    findings_per_ticket = Counter(row[3] for row in findings if row[3] is not None)
    orphans = sum(1 for t in tickets if findings_per_ticket[t.id] == 0)
    t_tick.duplicated = extra_open + orphans
    wrong_recurrences = sum(1 for t in tickets if t.recurrences != findings_per_ticket[t.id] - 1)
    if extra_open:
        t_tick.notes.append(f"{extra_open} extra open tickets at {sum(1 for n in open_at.values() if n > 1)} "
                            "places (one place and item should have one open ticket)")
    if orphans:
        t_tick.notes.append(f"{orphans} tickets without a finding")
    if wrong_recurrences:
        t_tick.notes.append(f"{wrong_recurrences} tickets whose recurrence count differs from their findings - 1 "
                            "(a lost update of the counter)")

    # Photos
    t_photo = Tally("photos", confirmed=len(confirmed_photos),
                    stored=sum(1 for p in photos if status_is(p.status, "stored")))
    p_by_uuid: dict[str, list] = {}
    for row in photos:
        p_by_uuid.setdefault(row.uuid, []).append(row)
    t_photo.duplicated += len(photos) - len(p_by_uuid) + sum(1 for u in p_by_uuid if u not in sent_photos)
    for p, (finding_uuid, sha) in confirmed_photos.items():
        rows = p_by_uuid.get(p)
        if (not rows or not status_is(rows[0].status, "stored") or rows[0].sha256 != sha
            or rows[0].finding_uuid != finding_uuid or not stored_files.get(p)):
            t_photo.lost += 1
    t_photo.unconfirmed = sum(1 for u, rows in p_by_uuid.items()
                              if u not in confirmed_photos and status_is(rows[0].status, "stored"))
    if files_missing:
        t_photo.notes.append(f"{files_missing} stored photos miss a file")

    files_on_disk = sum(1 for _ in Path(instance.env["PHOTO_DIR"]).rglob("*.jpg"))
    extra = {"wrong_recurrences": wrong_recurrences, "photo_files": files_on_disk,
             "photo_files_expected": 2 * t_photo.stored}
    return [t_rounds, t_find, t_tick, t_photo], extra


# gunicorn's logs


def access_log_statuses(path: Path) -> Counter:
    statuses: Counter = Counter()
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            head = line.split(" ", 1)[0]
            if head.isdigit():
                statuses[int(head)] += 1
    return statuses


def tracebacks(path: Path) -> list[str]:
    """Stack traces in gunicorn's error log (the app logs every 500 with its traceback)."""
    text = path.read_text(errors="replace") if path.exists() else ""
    blocks, current = [], []
    for line in text.splitlines():
        if line.startswith("Traceback") or re.match(r"^\[.*\] \[(ERROR|CRITICAL)\]", line) or "Exception on " in line:
            if current:
                blocks.append("\n".join(current))
            current = [line]
        elif current and (line.startswith((" ", "\t")) or re.match(r"^[\w.]+(Error|Exception|Exit)\b", line)
                          or line.startswith(("The above", "During handling")) or not line.strip()):
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


# One database


@dataclass
class DbResult:
    db: str
    seconds: float
    logs: list[ClientLog]
    tallies: list[Tally]
    extra: dict
    log_statuses: Counter
    traces: list[str]
    cpu: CpuSample | None = None  # gunicorn, this process, the whole machine over the run

    @property
    def latencies(self) -> list[float]:
        return [x for log in self.logs for step in STEPS for x in log.latencies[step]]

    def step(self, name: str) -> list[float]:
        return [x for log in self.logs for x in log.latencies[name]]

    @property
    def rounds(self) -> int:
        return sum(len(log.completed) for log in self.logs)

    @property
    def photos(self) -> int:
        return sum(len(log.photos) for log in self.logs)

    @property
    def findings(self) -> int:
        return sum(len(a) for log in self.logs for a in log.completed.values())

    @property
    def lost(self) -> int:
        return sum(t.lost for t in self.tallies)

    @property
    def duplicated(self) -> int:
        return sum(t.duplicated for t in self.tallies)

    @property
    def server_errors(self) -> int:
        seen = sum(log.server_errors for log in self.logs)
        logged = sum(n for status, n in self.log_statuses.items() if status >= 500)
        return max(seen, logged)

    @property
    def faults(self) -> Counter:
        total: Counter = Counter()
        for log in self.logs:
            total.update(log.faults)
        return total

    def summary(self) -> dict:
        def r1(x: float) -> float | None:
            return None if x is None or math.isnan(x) else round(x, 1)

        faults = self.faults
        return {
            "db": self.db,
            "rounds_per_s": r1(self.rounds / self.seconds),
            "photos_per_s": r1(self.photos / self.seconds),
            "p95_ms": r1(pct(self.latencies, 95)),
            "lost": self.lost,
            "duplicated": self.duplicated,
            "server_errors": self.server_errors,
            "findings_per_s": r1(self.findings / self.seconds),
            "complete_p95_ms": r1(pct(self.step("complete"), 95)),
            "photo_p95_ms": r1(pct(self.step("photo"), 95)),
            "rounds": self.rounds,
            "findings": self.findings,
            "tickets": next(t.stored for t in self.tallies if t.name == "tickets"),
            "photos": self.photos,
            "repeated": faults["repeat"],
            "cut": sum(n for k, n in faults.items() if k.startswith("cut_")),
            "twins": faults["twin"],
            "needs_attention": sum(len(log.attention) for log in self.logs),
            "undelivered": sum(len(log.failures) for log in self.logs),
            "clients": len(self.logs),
            "seconds": r1(self.seconds),
            "other_processes_cpu_pct": r1(100 * max(0.0, self.cpu.busy - self.cpu.server - self.cpu.bench)
                                          / self.cpu.total) if self.cpu and self.cpu.total > 0 else None,
        }


def postgres_database(base_url: str) -> tuple[str, str]:
    """Create a throwaway database on the server of `base_url`; returns (name, URL)."""
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    name = f"xuncha_load_{os.getpid()}"
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    subprocess.run(["createdb", *args, name], check=True, capture_output=True, text=True)
    return name, url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(base_url: str, name: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    subprocess.run(["dropdb", *args, "--if-exists", "--force", name], capture_output=True, text=True)


def run_database(db: str, args: argparse.Namespace, photos: list[BenchPhoto]) -> DbResult:
    tmp = Path(tempfile.mkdtemp(prefix=f"xuncha-bench-load-{db}-"))
    pg_name = None
    try:
        url = None
        if db == "postgresql":
            pg_name, url = postgres_database(args.pg)
        instance = Instance(tmp, database_url=url)
        t = time.perf_counter()
        flask_cli(instance, "db", "upgrade")
        flask_cli(instance, "sync-checklists")
        world = create_bench_data(instance, args.clients, BUILDINGS_PER_STEWARD, FLOORS)
        print(f"[{db}] set-up: {time.perf_counter() - t:.1f} s; {len(world.stewards)} stewards, "
              f"{len(world.entrance_of)} buildings (1 stairwell x {FLOORS} floors), "
              f"{'database ' + pg_name if pg_name else 'SQLite in ' + str(tmp)}")
        access_log = tmp / "access.log"
        extra_args = ("--access-logfile", str(access_log), "--access-logformat", ACCESS_LOG_FORMAT,
                      "--timeout", "120")
        faults = Faults(args.repeat, args.cut, args.twin)
        logs = [ClientLog() for _ in range(args.clients)]
        with Server(instance, args.workers, args.threads, extra_args) as server:
            pids = server.worker_pids()
            cpu_at_start: list[CpuSample] = []
            ready = threading.Barrier(args.clients, action=lambda: cpu_at_start.append(server.cpu(pids)))
            threads = [threading.Thread(target=client, daemon=True,
                                        args=(server.port, world, i, photos, args.seconds, faults, ready, logs[i]))
                       for i in range(args.clients)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(timeout=args.seconds + 600)
            cpu = server.cpu(pids) - cpu_at_start[0] if cpu_at_start else None
            server_log = server.log
        began = [log.began for log in logs if log.began]
        ended = [log.ended for log in logs if log.ended]
        seconds = max(ended) - min(began) if began and ended else float("nan")
        tallies, extra = count_on_server(instance, logs)
        result = DbResult(db, seconds, logs, tallies, extra, access_log_statuses(access_log), tracebacks(server_log),
                          cpu)
        report(result)
        return result
    finally:
        if pg_name and args.keep:
            print(f"kept the PostgreSQL database {pg_name} (dropdb -h 127.0.0.1 -U postgres {pg_name})",
                  file=sys.stderr)
        elif pg_name:
            drop_postgres_database(args.pg, pg_name)
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(r: DbResult) -> None:
    s = r.summary()
    print(f"[{r.db}] {s['clients']} phones, {r.seconds:.1f} s: {r.rounds} rounds, {r.findings} findings, "
          f"{r.photos} photos confirmed; {s['tickets']} tickets on the server")
    print(f"  rounds/s {s['rounds_per_s']}   findings/s {s['findings_per_s']}   photos/s {s['photos_per_s']}   "
          f"p95 of every answered request {s['p95_ms']} ms")
    for step in STEPS:
        values = r.step(step)
        print(f"  {step:<9} p50 {pct(values, 50):7.1f} ms   p95 {pct(values, 95):7.1f} ms   "
              f"max {max(values, default=float('nan')):7.1f} ms   (n={len(values)})")
    if r.cpu and r.cpu.total > 0:
        c = r.cpu
        print(f"  CPU of the machine over the run: gunicorn {100 * c.server / c.total:.0f}%, load generator "
              f"{100 * c.bench / c.total:.0f}%, other processes (PostgreSQL's among them) "
              f"{100 * max(0.0, c.busy - c.server - c.bench) / c.total:.0f}%, idle {max(0.0, 100 * (1 - c.busy / c.total)):.0f}%"
              " (figures taken while other processes are busy are not comparable)")
    faults = r.faults
    print("  faults: " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items())) +
          f"; retries {sum(log.retries for log in r.logs)}")
    client_statuses: Counter = Counter()
    for log in r.logs:
        client_statuses.update(log.statuses)
    print(f"  answers seen by the phones: {dict(sorted(client_statuses.items()))}; "
          f"in gunicorn's access log: {dict(sorted(r.log_statuses.items()))}")
    print(f"  {'':<9} {'confirmed':>9} {'stored':>7} {'lost':>5} {'dup':>5} {'stored, unconfirmed':>20}")
    for t in r.tallies:
        print(f"  {t.name:<9} {t.confirmed:>9} {t.stored:>7} {t.lost:>5} {t.duplicated:>5} {t.unconfirmed:>20}")
        for note in t.notes:
            print(f"    {note}")
    print("  (tickets: confirmed = distinct place + item with a confirmed defect; lost = a defect without its "
          "ticket; dup = extra open tickets at one place + item, tickets without a finding)")
    print(f"  photo files: {r.extra['photo_files']} on disk for {r.extra['photo_files_expected'] // 2} stored photos "
          f"(display + thumbnail each; extra files come from requests that lost a race and were discarded)")
    attention = [a for log in r.logs for a in log.attention]
    failures = [f for log in r.logs for f in log.failures]
    print(f"  needs attention (4xx or no echo): {len(attention)}; undelivered: {len(failures)}")
    for line in (attention + failures)[:10]:
        print(f"    {line}")
    print(f"  lost {r.lost}, duplicated {r.duplicated}, server errors {r.server_errors}; "
          f"stack traces in gunicorn's log: {len(r.traces)}")
    for trace in r.traces[:3]:
        print("    " + trace.replace("\n", "\n    "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the run per database (default 60)")
    parser.add_argument("--clients", type=int, default=50, help="simulated stewards (default 50)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (default 4)")
    parser.add_argument("--repeat", type=float, default=0.10, help="share of writes sent again after the answer")
    parser.add_argument("--cut", type=float, default=0.05, help="share of writes whose first attempt is cut")
    parser.add_argument("--twin", type=float, default=0.03, help="share of writes sent twice at the same moment")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432",
                        help="the PostgreSQL server (a database xuncha_load_<pid> is created and dropped)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temp dirs (SQLite file, photos, gunicorn logs) and the PostgreSQL database")
    args = parser.parse_args()
    args.seconds = max(1.0, args.seconds)
    args.clients = max(1, args.clients)

    photos = [photo_like_jpeg(seed) for seed in range(DISTINCT_PHOTOS)]
    print(f"load: {args.clients} phones for {args.seconds:.0f} s per database; gunicorn gthread {args.workers} "
          f"workers x {args.threads} threads on 127.0.0.1; photos {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG, "
          f"{', '.join(f'{len(p.data) / 1000:.0f} kB' for p in photos)}; faults: repeat {args.repeat:.0%}, "
          f"cut {args.cut:.0%}, twin {args.twin:.0%} of writes; this machine has {os.cpu_count()} CPUs")
    results = [run_database(db, args, photos)
               for db in (("sqlite", "postgresql") if args.db == "both" else (args.db,))]
    for r in results:
        print(json.dumps(r.summary(), ensure_ascii=False))
    sys.exit(1 if any(r.lost or r.duplicated or r.server_errors for r in results) else 0)


if __name__ == "__main__":
    main()
