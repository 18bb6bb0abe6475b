"""Benchmark of syncing rounds through the real API under gunicorn, on SQLite.

Run from the repo root:  .venv/bin/python bench/sync.py [--seconds 20] [--large 500000] [--skip-large]
Other options: --workers/--threads (gunicorn gthread; default 2 x 2, the best of a sweep over
1x4, 2x2, 2x4, 4x2, 4x1 on a 2-core machine), --sweep 2x2,2x4,... to try settings first and
keep the best, --photo-every N (a photo on every N-th round only), --keep (keep the temp dir).

A throwaway instance (temp dir, SQLite file, photo folder) is migrated with the real CLI, gets
one estate with corridor buildings (one stairwell of 3 floors each) and 8 stewards assigned
estate-wide. The app runs under gunicorn on 127.0.0.1. 8 client threads, one per steward, sign
in through the login form and then, for a fixed time, repeat what a phone does:

  start    POST /api/v1/rounds                    a corridor round in one of their own buildings
  plan     GET  /api/v1/rounds/<uuid>             the checkpoints and items to answer
  round    POST /api/v1/rounds/<uuid>/completion  every item answered, one defect with a photo
  photo    PUT  /api/v1/photos/<uuid>             a 2048x1536 JPEG of about 400 KB

Figures: findings stored per second and photos per second (wall time of the run), and the
latencies of each step (p50/p95); "round" is the completion POST of one whole round. Then the
database is grown to --large findings (bulk insert, gunicorn stopped) and the run is repeated
to show whether the per-round cost grows with the database. Each run also shows where the
machine's CPU went (gunicorn, the load generator, other processes, idle; Linux /proc): figures
taken while other processes are busy are not comparable.

Targets: >= 2,000 findings/s, >= 20 photos/s, round p95 <= 100 ms (2 cores, SQLite, the load
generator on the same machine). The last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import math
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PIL import Image

STEWARDS = 8
BUILDINGS_PER_STEWARD = 4
FLOORS = 3
PASSWORD = "bench-password-1"
PHOTO_SIZE = (2048, 1536)
PHOTO_BYTES = 400_000
DISTINCT_PHOTOS = 3
HEALTH_TIMEOUT_S = 30
MAX_ERRORS_PER_CLIENT = 20

TARGET_FINDINGS_PER_S = 2000
TARGET_PHOTOS_PER_S = 20
TARGET_ROUND_P95_MS = 100


# The throwaway instance


@dataclass
class Instance:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "bench.db"

    @property
    def config(self) -> dict:
        """What create_app() gets in this process, and (as a literal) in flask and gunicorn."""
        return {"INSTANCE_PATH": str(self.root / "instance")}

    @property
    def factory(self) -> str:
        return f"app:create_app({self.config!r})"

    @property
    def env(self) -> dict:
        return {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.database}",
            "PHOTO_DIR": str(self.root / "photos"),
            "SECRET_KEY": "bench",
            "LOGIN_FAILURE_LIMIT": "100000 per minute",
            "XUNCHA_ENV": "development",
        }


def flask_cli(instance: Instance, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", instance.factory, *args],
                   cwd=ROOT, env=instance.env, check=True, capture_output=True, text=True)


def app_for(instance: Instance):
    """An app object on the bench database, for creating and growing data in this process."""
    os.environ.update({k: v for k, v in instance.env.items() if k in ("DATABASE_URL", "PHOTO_DIR", "SECRET_KEY")})
    from app import create_app

    return create_app(instance.config)


@dataclass
class World:
    estate_id: int
    checklist_version_id: int
    stewards: list[tuple[int, str, list[int]]]  # (user id, username, building ids)
    entrance_of: dict[int, int]  # building id -> its one entrance id


def create_bench_data(instance: Instance) -> World:
    """One estate, STEWARDS x BUILDINGS_PER_STEWARD buildings (one stairwell of FLOORS floors each),
    STEWARDS stewards assigned estate-wide (each walks its own buildings in the benchmark)."""
    from app.checklists import latest_version
    from app.extensions import db
    from app.models import Building, Entrance, Estate, Role, RoundKind, User

    app = app_for(instance)
    with app.app_context():
        estate = Estate(code="BENCH", name="基準花園", timezone="Asia/Shanghai")
        db.session.add(estate)
        buildings = []
        for n in range(1, STEWARDS * BUILDINGS_PER_STEWARD + 1):
            building = Building(code=f"B{n}", name=f"{n}棟", floors=FLOORS, position=n)
            building.entrances.append(Entrance(code="E1", name="1梯", lowest_floor=1, highest_floor=FLOORS, position=1))
            estate.buildings.append(building)
            buildings.append(building)
        template = User(username="template", display_name="", role=Role.STEWARD)
        template.set_password(PASSWORD)  # scrypt is slow: hash once, copy the hash
        users = []
        for n in range(1, STEWARDS + 1):
            user = User(username=f"bench{n}", display_name=f"管家 {n}", role=Role.STEWARD,
                        password_hash=template.password_hash, estates=[estate])
            db.session.add(user)
            users.append(user)
        db.session.flush()
        world = World(
            estate_id=estate.id,
            checklist_version_id=latest_version(db.session, RoundKind.CORRIDOR).id,
            stewards=[(u.id, u.username, [b.id for b in buildings[i::STEWARDS]]) for i, u in enumerate(users)],
            entrance_of={b.id: b.entrances[0].id for b in buildings},
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return world


# Photos


@dataclass(frozen=True)
class BenchPhoto:
    data: bytes
    sha256: str


def photo_like_jpeg(seed: int) -> BenchPhoto:
    """2048x1536: gradients plus coarse and fine noise (compresses like a photo), the JPEG quality
    picked so the file is about PHOTO_BYTES (the phone's re-encoded upload)."""
    w, h = PHOTO_SIZE

    def channel(sigma: float, angle: int) -> Image.Image:
        gradient = Image.linear_gradient("L").rotate(angle).resize((w, h), Image.Resampling.BILINEAR)
        coarse = Image.effect_noise((w // 4, h // 4), sigma).resize((w, h), Image.Resampling.BICUBIC)
        fine = Image.effect_noise((w, h), 12)
        return Image.blend(Image.blend(gradient, coarse, 0.5), fine, 0.2)

    im = Image.merge("RGB", [channel(60, seed * 30), channel(50, 90 + seed * 30), channel(40, 45 + seed * 30)])

    def encode(quality: int) -> bytes:
        out = io.BytesIO()
        im.save(out, "JPEG", quality=quality)
        return out.getvalue()

    low, high = 20, 95  # the largest quality whose file stays at or under PHOTO_BYTES
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if len(encode(mid)) <= PHOTO_BYTES else (low, mid - 1)
    data = encode(low)
    return BenchPhoto(data, hashlib.sha256(data).hexdigest())


# The server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat (Linux)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - ticks[3] - ticks[4]) / hz, sum(ticks) / hz


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (Linux), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuSample:
    server: float
    bench: float
    busy: float
    total: float

    def __sub__(self, other: CpuSample) -> CpuSample:
        return CpuSample(self.server - other.server, self.bench - other.bench,
                         self.busy - other.busy, self.total - other.total)


class Server:
    """gunicorn (gthread workers) on 127.0.0.1; always stopped on leaving the `with` block."""

    def __init__(self, instance: Instance, workers: int, threads: int) -> None:
        self.instance, self.workers, self.threads = instance, workers, threads
        self.port = free_port()
        self.log = instance.root / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--worker-class", "gthread",
                 "-w", str(self.workers), "--threads", str(self.threads),
                 "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", self.instance.factory],
                cwd=ROOT, env=self.instance.env, stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log.read_text()[-2000:]}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within {HEALTH_TIMEOUT_S} s")

    def worker_pids(self) -> list[int]:
        try:
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as f:
                return [int(pid) for pid in f.read().split()]
        except OSError:
            return []

    def cpu(self, pids: list[int]) -> CpuSample:
        """CPU used so far by gunicorn (master + `pids`), by this process (the load generator)
        and by the whole machine."""
        times = os.times()
        busy, total = machine_cpu()
        return CpuSample(sum(process_cpu(pid) for pid in [self.process.pid, *pids]),
                         times.user + times.system, busy, total)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # graceful: the arbiter stops its workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# A phone


class Phone:
    """One steward's HTTP client: a keep-alive connection and a cookie jar."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.reconnects = 0

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str | None = None) -> tuple[int, bytes]:
        headers = {"X-CSRFToken": self.token} if self.token else {}
        if content_type:
            headers["Content-Type"] = content_type
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once (the API is idempotent)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.reconnects += 1
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        if response.will_close:
            self.conn.close()
        return response.status, data

    def post_json(self, path: str, payload: dict) -> tuple[int, bytes]:
        return self.request("POST", path, json.dumps(payload).encode(), "application/json")

    def login(self, username: str) -> None:
        """The real login form: its CSRF token from the page, then a fresh one from the API."""
        status, page = self.request("GET", "/login")
        marker = b'<meta name="csrf-token" content="'
        start = page.index(marker) + len(marker)
        form_token = page[start:page.index(b'"', start)].decode()
        form = urlencode({"csrf_token": form_token, "username": username, "password": PASSWORD}).encode()
        status, _ = self.request("POST", "/login", form, "application/x-www-form-urlencoded")
        if status != 302:
            raise RuntimeError(f"login of {username} answered {status}, not 302")
        status, body = self.request("GET", "/api/v1/session")
        if status != 200:
            raise RuntimeError(f"GET /api/v1/session answered {status}")
        self.token = json.loads(body)["csrf_token"]

    def close(self) -> None:
        self.conn.close()


def multipart(fields: dict[str, str], file_data: bytes) -> tuple[bytes, str]:
    boundary = uuidlib.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
                 f"Content-Type: image/jpeg\r\n\r\n".encode())
    parts += [file_data, f"\r\n--{boundary}--\r\n".encode()]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def new_uuid() -> str:
    return str(uuidlib.uuid4())


# One client's work


@dataclass
class ClientStats:
    rounds: int = 0
    findings: int = 0
    photos: int = 0
    start_ms: list[float] = field(default_factory=list)
    plan_ms: list[float] = field(default_factory=list)
    round_ms: list[float] = field(default_factory=list)
    photo_ms: list[float] = field(default_factory=list)
    findings_per_round: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reconnects: int = 0
    warmup_findings: int = 0
    began: float = 0.0
    ended: float = 0.0


class StepFailed(Exception):
    pass


def timed(step: str, expected: int, times: list[float], call: Callable[[], tuple[int, bytes]]) -> bytes:
    """Run one request, record its latency, check its status; returns the body."""
    start = time.perf_counter()
    status, body = call()
    times.append((time.perf_counter() - start) * 1000)
    if status != expected:
        raise StepFailed(f"{step}: {status} {body[:200]!r}")
    return body


def completion_body(plan: dict, rng: random.Random, with_photo: bool) -> tuple[dict, str | None, str | None]:
    """Every item of the plan answered fine; `with_photo`: one photo-needing item at one floor is a
    defect with the item's first reason and one photo. Returns (body, finding uuid, photo uuid)."""
    items = {i["code"]: i for i in plan["items"]}
    findings = [{"uuid": new_uuid(), "checkpoint": c["key"], "item_code": code, "result": "fine"}
                for c in plan["checkpoints"] for code in c["items"]]
    body = {"completed_at": datetime.now(timezone.utc).isoformat(), "findings": findings}
    if not with_photo:
        return body, None, None
    defect = rng.choice([f for f in findings
                         if items[f["item_code"]]["photo_required"] and items[f["item_code"]]["reasons"]])
    photo_uuid = new_uuid()
    defect.update(result="defect", reason_code=items[defect["item_code"]]["reasons"][0]["code"],
                  photo_uuids=[photo_uuid])
    return body, defect["uuid"], photo_uuid


def walk_one_round(phone: Phone, world: World, building_id: int, photo: BenchPhoto | None,
                   stats: ClientStats, rng: random.Random) -> None:
    """Start, plan, complete; then upload the defect's photo (no defect when `photo` is None)."""
    round_uuid = new_uuid()
    start = {"uuid": round_uuid, "kind": "corridor", "estate_id": world.estate_id, "building_id": building_id}
    timed("start", 201, stats.start_ms, lambda: phone.post_json("/api/v1/rounds", start))
    plan = json.loads(timed("plan", 200, stats.plan_ms,
                            lambda: phone.request("GET", f"/api/v1/rounds/{round_uuid}")))
    body, finding_uuid, photo_uuid = completion_body(plan, rng, with_photo=photo is not None)
    done = json.loads(timed("completion", 201, stats.round_ms,
                            lambda: phone.post_json(f"/api/v1/rounds/{round_uuid}/completion", body)))
    stats.rounds += 1
    stats.findings += done["findings"]
    stats.findings_per_round.append(done["findings"])
    if photo is None:
        return
    upload, content_type = multipart({"finding_uuid": finding_uuid, "sha256": photo.sha256}, photo.data)
    timed("photo", 201, stats.photo_ms,
          lambda: phone.request("PUT", f"/api/v1/photos/{photo_uuid}", upload, content_type))
    stats.photos += 1


def client(port: int, world: World, index: int, photos: list[BenchPhoto], photo_every: int, seconds: float,
           ready: threading.Barrier, stats: ClientStats) -> None:
    """Sign in, walk one warm-up round, wait for the others, then walk rounds until time is up
    (a photo on every `photo_every`-th round)."""
    _, username, buildings = world.stewards[index]
    rng = random.Random(index)
    phone = Phone(port)
    try:
        phone.login(username)
        warmup = ClientStats()
        walk_one_round(phone, world, buildings[0], photos[0], warmup, rng)
        stats.warmup_findings = warmup.findings
    except Exception as exc:  # noqa: BLE001 - reported, and the barrier must still be reached
        stats.errors.append(f"warm-up: {exc!r}")
    ready.wait()
    stats.began = time.perf_counter()
    deadline = stats.began + seconds
    n = 0
    while time.perf_counter() < deadline and len(stats.errors) < MAX_ERRORS_PER_CLIENT:
        n += 1
        try:
            photo = photos[n % len(photos)] if n % photo_every == 0 else None
            walk_one_round(phone, world, buildings[n % len(buildings)], photo, stats, rng)
        except (StepFailed, OSError, http.client.HTTPException, ValueError) as exc:
            stats.errors.append(str(exc))
    stats.ended = time.perf_counter()
    stats.reconnects = phone.reconnects
    phone.close()


# Measuring


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


@dataclass
class RunResult:
    seconds: float
    rounds: int
    findings: int
    photos: int
    latencies: dict[str, list[float]]
    findings_per_round: list[int]
    errors: list[str]
    reconnects: int
    warmup_findings: int
    cpu: CpuSample | None = None

    @property
    def findings_per_s(self) -> float:
        return self.findings / self.seconds

    @property
    def photos_per_s(self) -> float:
        return self.photos / self.seconds

    def p(self, step: str, q: float) -> float:
        return pct(self.latencies[step], q)

    @property
    def server_cpu_ms_per_round(self) -> float | None:
        return 1000 * self.cpu.server / self.rounds if self.cpu and self.rounds else None

    @property
    def others_cpu_pct(self) -> float | None:
        """CPU taken by processes other than gunicorn and this benchmark (a busy machine skews the figures)."""
        if not self.cpu or self.cpu.total <= 0:
            return None
        return 100 * max(0.0, self.cpu.busy - self.cpu.server - self.cpu.bench) / self.cpu.total


def run_load(server: Server, world: World, photos: list[BenchPhoto], photo_every: int, seconds: float) -> RunResult:
    stats = [ClientStats() for _ in range(STEWARDS)]
    pids = server.worker_pids()
    cpu_at_start: list[CpuSample] = []
    ready = threading.Barrier(STEWARDS, action=lambda: cpu_at_start.append(server.cpu(pids)))
    threads = [
        threading.Thread(target=client, daemon=True,
                         args=(server.port, world, i, photos, photo_every, seconds, ready, stats[i]))
        for i in range(STEWARDS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 300)  # bounded: a hung request times out after 60 s anyway
    wall = max(s.ended for s in stats) - min(s.began for s in stats)
    return RunResult(
        cpu=server.cpu(pids) - cpu_at_start[0] if cpu_at_start else None,
        seconds=wall,
        rounds=sum(s.rounds for s in stats),
        findings=sum(s.findings for s in stats),
        photos=sum(s.photos for s in stats),
        latencies={step: [x for s in stats for x in getattr(s, f"{step}_ms")]
                   for step in ("start", "plan", "round", "photo")},
        findings_per_round=sorted({n for s in stats for n in s.findings_per_round}),
        errors=[e for s in stats for e in s.errors],
        reconnects=sum(s.reconnects for s in stats),
        warmup_findings=sum(s.warmup_findings for s in stats),
    )


def measure(instance: Instance, world: World, photos: list[BenchPhoto], photo_every: int, seconds: float,
            workers: int, threads: int) -> RunResult:
    """One run on a fresh gunicorn; checks that the database holds exactly the findings the API confirmed."""
    before = count_findings(instance)
    with Server(instance, workers, threads) as server:
        result = run_load(server, world, photos, photo_every, seconds)
    stored, confirmed = count_findings(instance) - before, result.findings + result.warmup_findings
    if stored != confirmed:
        result.errors.append(f"the database gained {stored} findings, the API confirmed {confirmed}")
    return result


def report(title: str, r: RunResult) -> None:
    print(f"{title}: {r.rounds} rounds, {r.findings} findings, {r.photos} photos in {r.seconds:.1f} s "
          f"(findings per round: {', '.join(map(str, r.findings_per_round)) or '-'})")
    print(f"  findings/s {r.findings_per_s:8.0f}   photos/s {r.photos_per_s:6.1f}")
    for step, name in (("start", "start round"), ("plan", "get plan"), ("round", "complete round"),
                       ("photo", "upload photo")):
        print(f"  {name:<15} p50 {r.p(step, 50):7.1f} ms   p95 {r.p(step, 95):7.1f} ms   "
              f"max {max(r.latencies[step], default=float('nan')):7.1f} ms   (n={len(r.latencies[step])})")
    if r.others_cpu_pct is not None:
        print(f"  CPU of the machine over the run: gunicorn {100 * r.cpu.server / r.cpu.total:.0f}%, "
              f"load generator {100 * r.cpu.bench / r.cpu.total:.0f}%, other processes {r.others_cpu_pct:.0f}%, "
              f"idle {100 * (1 - r.cpu.busy / r.cpu.total):.0f}%; gunicorn CPU per round "
              f"{r.server_cpu_ms_per_round or 0:.0f} ms")
    print(f"  errors: {len(r.errors)} (reconnects after the server closed a kept-alive connection: {r.reconnects})")
    for error in r.errors[:10]:
        print(f"    {error}")


# Growing the database


def grow_database(instance: Instance, world: World, findings_wanted: int) -> tuple[int, int, float]:
    """Bulk-insert completed corridor rounds (every item answered, a few defects) until the
    database holds at least `findings_wanted` findings. Returns (rounds, findings, seconds)."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import ChecklistItem, Finding, FindingResult, Round, RoundKind, RoundStatus

    started = time.perf_counter()
    app = app_for(instance)
    rng = random.Random(500_000)
    with app.app_context():
        items = db.session.execute(
            sa.select(ChecklistItem.id, ChecklistItem.applies_to, ChecklistItem.reasons)
            .where(ChecklistItem.version_id == world.checklist_version_id).order_by(ChecklistItem.position)
        ).all()
        have = db.session.scalar(sa.select(sa.func.count()).select_from(Finding))
        next_round_id = (db.session.scalar(sa.select(sa.func.max(Round.id))) or 0) + 1
        db.session.remove()

        def places(building_id: int) -> list[tuple]:  # (item id, entrance id, floor, reasons): one round's answers
            entrance = world.entrance_of[building_id]
            return ([(i.id, entrance, None, i.reasons) for i in items if i.applies_to == "entrance"]
                    + [(i.id, entrance, f, i.reasons) for f in range(1, FLOORS + 1)
                       for i in items if i.applies_to == "floor"])

        plans = {b: places(b) for _, _, bs in world.stewards for b in bs}
        per_round = len(next(iter(plans.values())))
        rounds_needed = max(0, math.ceil((findings_wanted - have) / per_round))
        today = datetime.now(timezone.utc)
        batch_rounds = 1000
        inserted = 0
        with db.engine.connect() as conn:
            for first in range(0, rounds_needed, batch_rounds):
                round_rows, finding_rows = [], []
                for n in range(first, min(rounds_needed, first + batch_rounds)):
                    steward_id, _, buildings = world.stewards[n % STEWARDS]
                    building_id = buildings[(n // STEWARDS) % len(buildings)]
                    at = today - timedelta(days=1 + rng.random() * 730)
                    round_id = next_round_id + n
                    round_rows.append(dict(
                        id=round_id, uuid=new_uuid(), kind=RoundKind.CORRIDOR, estate_id=world.estate_id,
                        building_id=building_id, unit_id=None, steward_id=steward_id,
                        checklist_version_id=world.checklist_version_id, local_date=(at + timedelta(hours=8)).date(),
                        status=RoundStatus.COMPLETED, started_at=at, completed_at=at + timedelta(minutes=25),
                        completion_sha256=hashlib.sha256(str(n).encode()).hexdigest(),
                    ))
                    for item_id, entrance_id, floor, reasons in plans[building_id]:
                        defect = rng.random() < 0.03 and reasons
                        finding_rows.append(dict(
                            uuid=new_uuid(), round_id=round_id, checklist_item_id=item_id, entrance_id=entrance_id,
                            floor=floor, public_area_id=None, asset_id=None, unit_id=None, meter_id=None,
                            result=FindingResult.DEFECT if defect else FindingResult.FINE,
                            reason_code=reasons[0]["code"] if defect else None, reason_text="", action_code=None,
                            note="", reading_value=None, flags=[], recorded_at=at, received_at=at,
                        ))
                conn.execute(sa.insert(Round.__table__), round_rows)
                conn.execute(sa.insert(Finding.__table__), finding_rows)
                conn.commit()
                inserted += len(finding_rows)
        db.engine.dispose()
    with sqlite3.connect(instance.database) as raw:  # outside any transaction: fold the WAL back in
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return rounds_needed, inserted, time.perf_counter() - started


def count_findings(instance: Instance) -> int:
    with sqlite3.connect(instance.database) as conn:
        return conn.execute("SELECT count(*) FROM finding").fetchone()[0]


# Main


def parse_settings(text: str) -> list[tuple[int, int]]:
    return [tuple(int(x) for x in part.split("x")) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each measured run (default 20)")
    parser.add_argument("--large", type=int, default=500_000, help="findings in the grown database (default 500000)")
    parser.add_argument("--skip-large", action="store_true", help="measure on the small database only")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker (default 2)")
    parser.add_argument("--sweep", metavar="WxT,...",
                        help="first try these worker x thread settings (e.g. 1x8,2x4,4x2) for --sweep-seconds "
                             "each and keep the best by findings/s")
    parser.add_argument("--sweep-seconds", type=float, default=8.0)
    parser.add_argument("--photo-every", type=int, default=1, metavar="N",
                        help="a defect with a photo on every N-th round, the others all fine (default 1: every round)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, photos, gunicorn logs)")
    args = parser.parse_args()
    seconds = max(1.0, args.seconds)
    args.photo_every = max(1, args.photo_every)

    tmp = tempfile.mkdtemp(prefix="xuncha-bench-sync-")
    instance = Instance(Path(tmp))
    try:
        t = time.perf_counter()
        flask_cli(instance, "db", "upgrade")
        flask_cli(instance, "sync-checklists")
        world = create_bench_data(instance)
        photos = [photo_like_jpeg(seed) for seed in range(DISTINCT_PHOTOS)]
        print(f"set-up: {time.perf_counter() - t:.1f} s; {len(world.stewards)} stewards, "
              f"{len(world.entrance_of)} buildings (1 stairwell x {FLOORS} floors); photos "
              f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG, {', '.join(f'{len(p.data) / 1000:.0f} kB' for p in photos)}")
        print(f"load: {STEWARDS} client threads, {seconds:.0f} s per run, a photo on "
              f"{'every round' if args.photo_every == 1 else f'every {args.photo_every}th round'}, "
              f"on this machine ({os.cpu_count()} CPUs)")

        workers, threads = args.workers, args.threads
        if args.sweep:
            tried = []
            for w, th in parse_settings(args.sweep):
                r = measure(instance, world, photos, args.photo_every, args.sweep_seconds, w, th)
                tried.append((r.findings_per_s, w, th))
                print(f"  sweep {w} workers x {th} threads: {r.findings_per_s:6.0f} findings/s, "
                      f"{r.photos_per_s:5.1f} photos/s, round p95 {r.p('round', 95):6.1f} ms, errors {len(r.errors)}")
            _, workers, threads = max(tried)
        print(f"gunicorn: gthread, {workers} workers x {threads} threads")

        small_db = count_findings(instance)
        small = measure(instance, world, photos, args.photo_every, seconds, workers, threads)
        report(f"run 1, database with {small_db:,} findings at the start", small)

        large, large_db = None, None
        grown = (0, 0, 0.0)
        if not args.skip_large:
            grown = grow_database(instance, world, args.large)
            print(f"grew the database: {grown[0]:,} rounds, {grown[1]:,} findings in {grown[2]:.1f} s "
                  f"({instance.database.stat().st_size / 1e6:.0f} MB)")
            large_db = count_findings(instance)
            large = measure(instance, world, photos, args.photo_every, seconds, workers, threads)
            report(f"run 2, database with {large_db:,} findings at the start", large)

        errors = len(small.errors) + (len(large.errors) if large else 0)
        checks = {
            "findings_per_s": small.findings_per_s >= TARGET_FINDINGS_PER_S,
            "photos_per_s": small.photos_per_s >= TARGET_PHOTOS_PER_S,
            "round_p95_ms": small.p("round", 95) <= TARGET_ROUND_P95_MS,
        }
        if large:
            checks["round_p95_ms_large_db"] = large.p("round", 95) <= TARGET_ROUND_P95_MS
        checks["no_errors"] = errors == 0
        print(f"targets: findings/s >= {TARGET_FINDINGS_PER_S}, photos/s >= {TARGET_PHOTOS_PER_S}, "
              f"round p95 <= {TARGET_ROUND_P95_MS} ms, every response as expected")
        for name, ok in checks.items():
            print(f"  {name:<24} {'ok' if ok else 'MISSED'}")

        def r1(x: float | None) -> float | None:
            return None if x is None or math.isnan(x) else round(x, 1)

        print(json.dumps({
            "findings_per_s": r1(small.findings_per_s),
            "photos_per_s": r1(small.photos_per_s),
            "round_p95_ms": r1(small.p("round", 95)),
            "round_p95_ms_large_db": r1(large.p("round", 95)) if large else None,
            "round_p50_ms": r1(small.p("round", 50)),
            "start_p95_ms": r1(small.p("start", 95)),
            "plan_p95_ms": r1(small.p("plan", 95)),
            "photo_p95_ms": r1(small.p("photo", 95)),
            "findings_per_s_large_db": r1(large.findings_per_s) if large else None,
            "photos_per_s_large_db": r1(large.photos_per_s) if large else None,
            "large_db_findings": large_db,
            "grow_seconds": r1(grown[2]) if large else None,
            "findings_per_round": small.findings_per_round,
            "photo_every": args.photo_every,
            "server_cpu_ms_per_round": r1(small.server_cpu_ms_per_round),
            "other_processes_cpu_pct": r1(small.others_cpu_pct),
            "other_processes_cpu_pct_large_db": r1(large.others_cpu_pct) if large else None,
            "workers": workers,
            "threads": threads,
            "clients": STEWARDS,
            "seconds": seconds,
            "errors": errors,
            "targets_met": all(checks.values()),
        }, ensure_ascii=False))
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
