"""Pieces the benchmarks share: a throwaway instance (temp dir, SQLite file or a PostgreSQL
database URL, photo folder), bench data, photo-like JPEGs, gunicorn on loopback, and a phone (an
HTTP client that signs in through the real login form and keeps its cookies and CSRF token).

Imported by bench/sync.py and bench/load.py (run as scripts from the repo root: `bench/` is on
sys.path then).
"""
from __future__ import annotations

import hashlib
import http.client
import io
import json
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid as uuidlib
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PIL import Image, ImageCms  # noqa: E402

PASSWORD = "bench-password-1"
PHOTO_SIZE = (2048, 1536)
PHOTO_BYTES = 400_000
HEALTH_TIMEOUT_S = 120  # a busy machine (other jobs, niced) has taken over 30 s to start three workers


# The throwaway instance


@dataclass
class Instance:
    root: Path
    database_url: str | None = None  # None: a SQLite file in `root`

    @property
    def database(self) -> Path:
        """The SQLite file (when `database_url` is None)."""
        return self.root / "bench.db"

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.database}"

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
            "DATABASE_URL": self.url,
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
    entrance_of: dict[int, int]  # building id -> its first entrance id
    stairwells_of: dict[int, list[tuple[int, int]]]  # building id -> (entrance id, highest floor) of each


def create_bench_data(instance: Instance, stewards: int, buildings_per_steward: int, floors: int,
                      stairwells: tuple[int, ...] | None = None) -> World:
    """One estate, `stewards` x `buildings_per_steward` buildings of `floors` floors, `stewards`
    stewards assigned estate-wide; steward i is given buildings i, i + stewards, ... Each building
    has one stairwell serving every floor, or with `stairwells` one per entry, each serving floors
    1 to that number."""
    from app.extensions import db
    from app.models import Building, Entrance, Estate, Role, RoundKind, User
    from app.rounds.checklists import latest_version

    app = app_for(instance)
    with app.app_context():
        estate = Estate(code="BENCH", name="基準花園", timezone="Asia/Shanghai")
        db.session.add(estate)
        buildings = []
        for n in range(1, stewards * buildings_per_steward + 1):
            building = Building(code=f"B{n}", name=f"{n}棟", floors=floors, position=n)
            for k, highest in enumerate(stairwells or (floors,), start=1):
                building.entrances.append(Entrance(code=f"E{k}", name=f"{k}梯", lowest_floor=1, highest_floor=highest,
                                                   position=k))
            estate.buildings.append(building)
            buildings.append(building)
        template = User(username="template", display_name="", role=Role.STEWARD)
        template.set_password(PASSWORD)  # scrypt is slow: hash once, copy the hash
        users = []
        for n in range(1, stewards + 1):
            user = User(username=f"bench{n}", display_name=f"管家 {n}", role=Role.STEWARD,
                        password_hash=template.password_hash, estates=[estate])
            db.session.add(user)
            users.append(user)
        db.session.flush()
        world = World(
            estate_id=estate.id,
            checklist_version_id=latest_version(db.session, RoundKind.CORRIDOR).id,
            stewards=[(u.id, u.username, [b.id for b in buildings[i::stewards]]) for i, u in enumerate(users)],
            entrance_of={b.id: b.entrances[0].id for b in buildings},
            stairwells_of={b.id: [(e.id, e.highest_floor) for e in b.entrances] for b in buildings},
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


SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def photo_like_jpeg(seed: int) -> BenchPhoto:
    """2048x1536: gradients plus coarse and fine noise (compresses like a photo), the JPEG quality
    picked so the file is about PHOTO_BYTES, tagged sRGB: what the phone's canvas uploads."""
    w, h = PHOTO_SIZE

    def channel(sigma: float, angle: int) -> Image.Image:
        gradient = Image.linear_gradient("L").rotate(angle).resize((w, h), Image.Resampling.BILINEAR)
        coarse = Image.effect_noise((w // 4, h // 4), sigma).resize((w, h), Image.Resampling.BICUBIC)
        fine = Image.effect_noise((w, h), 12)
        return Image.blend(Image.blend(gradient, coarse, 0.5), fine, 0.2)

    im = Image.merge("RGB", [channel(60, seed * 30), channel(50, 90 + seed * 30), channel(40, 45 + seed * 30)])

    def encode(quality: int) -> bytes:
        out = io.BytesIO()
        im.save(out, "JPEG", quality=quality, icc_profile=SRGB_PROFILE)
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


def machine_cpu() -> tuple[float, float, float]:
    """(busy, total, stolen) CPU seconds of the whole machine since boot, from /proc/stat (Linux).
    Stolen: time the hypervisor gave another guest while this one wanted to run (counted busy)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    steal = ticks[7] if len(ticks) > 7 else 0
    return (sum(ticks) - ticks[3] - ticks[4]) / hz, sum(ticks) / hz, steal / hz


def reference_workload_ms(repeats: int = 5) -> float:
    """This machine's speed on a fixed single-threaded workload much like a request's (JSON, hashing,
    Python objects, an SQLite insert and query), best of `repeats`, in ms. The same code measured
    on two machines of the same kind has differed by more than 2x: this figure tells whether
    two runs' figures can be compared."""
    body = {"completed_at": "2026-11-27T08:00:00+00:00",
            "findings": [{"uuid": str(uuidlib.UUID(int=n)), "checkpoint": f"E1/F{n % 3}", "item_code": f"C{n:02d}",
                          "result": "fine"} for n in range(30)]}
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE finding (id INTEGER PRIMARY KEY, uuid TEXT UNIQUE, item TEXT, result TEXT)")
        for n in range(200):
            findings = json.loads(json.dumps(body))["findings"]
            hashlib.sha256(json.dumps(findings, sort_keys=True).encode()).hexdigest()
            conn.executemany("INSERT INTO finding (uuid, item, result) VALUES (?, ?, ?)",
                             [(f"{n}-{f['uuid']}", f["item_code"], f["result"]) for f in findings])
        conn.execute("SELECT result, count(*) FROM finding GROUP BY result").fetchall()
        conn.close()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


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
    stolen: float = 0.0

    def __sub__(self, other: CpuSample) -> CpuSample:
        return CpuSample(self.server - other.server, self.bench - other.bench,
                         self.busy - other.busy, self.total - other.total, self.stolen - other.stolen)


class Server:
    """gunicorn on 127.0.0.1 (gthread workers, or sync workers when threads is 0); always stopped on
    leaving the `with` block."""

    def __init__(self, instance: Instance, workers: int, threads: int, extra_args: tuple[str, ...] = (),
                 factory: str | None = None) -> None:
        self.instance, self.workers, self.threads = instance, workers, threads
        self.extra_args = extra_args  # e.g. an access log, a longer worker timeout
        self.factory = factory or instance.factory  # another WSGI app (bench/floor_app.py) under the same gunicorn
        self.port = free_port()
        self.log = instance.root / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(self.workers),
                 *(("--worker-class", "gthread", "--threads", str(self.threads)) if self.threads
                   else ("--worker-class", "sync")),
                 "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                 # only another app is looked up in bench/ (its module names would shadow others for Xuncha)
                 *(("--pythonpath", str(ROOT / "bench")) if self.factory != self.instance.factory else ()),
                 *self.extra_args, self.factory],
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
        busy, total, stolen = machine_cpu()
        return CpuSample(sum(process_cpu(pid) for pid in [self.process.pid, *pids]),
                         times.user + times.system, busy, total, stolen)

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

    def headers(self, content_type: str | None = None) -> dict[str, str]:
        """What every request of this phone carries: its CSRF token and its cookies."""
        headers = {"X-CSRFToken": self.token} if self.token else {}
        if content_type:
            headers["Content-Type"] = content_type
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str | None = None) -> tuple[int, bytes]:
        headers = self.headers(content_type)
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

    def login(self, username: str, password: str = PASSWORD) -> None:
        """The real login form: its CSRF token from the page, then a fresh one from the API."""
        status, page = self.request("GET", "/login")
        marker = b'<meta name="csrf-token" content="'
        start = page.index(marker) + len(marker)
        form_token = page[start:page.index(b'"', start)].decode()
        form = urlencode({"csrf_token": form_token, "username": username, "password": password}).encode()
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


# Measuring


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]
