"""Benchmark of syncing rounds through the real API under gunicorn, on SQLite.

Run from the repo root:  .venv/bin/python bench/sync.py [--seconds 20] [--large 500000] [--skip-large]
Other options: --workers/--threads (default 3 sync workers, threads 0; a thread count gives
gthread workers), --sweep 3x0,2x2,... to try settings first and keep the best, --photo-every N
(a defect with a photo on one round in N, default 3), --rate (findings/s offered in the paced
runs, default 2000), --separate-steps, --keep (keep the temp dir).

Why sync workers: a gthread worker keeps the kept-alive connections it accepted, and one
worker took all eight clients' connections (measured: one process did every request while the
machine stood 38% idle). A sync worker takes one request at a time from the shared socket, so
requests spread over the processes. 4 sync workers beat 2x2, 2x4, 4x2, 4x4, 8x1 and 3x8 gthread
by 15-90%; among 2, 3, 4 and 6 sync workers 3 was best (600 against 532-572 findings/s).

A throwaway instance (temp dir, SQLite file, photo folder) is migrated with the real CLI, gets
one estate with corridor buildings (two stairwells each, serving 2 floors and 1: 3 entrance and
8 floor items per stairwell and floor make a 30-finding round) and 8 stewards assigned
estate-wide. The app runs under gunicorn on 127.0.0.1. 8 client threads, one per steward, sign
in through the login form, walk one warm-up round in each of their buildings step by step (which
gives them each building's plan, as the phone's offline pack does) and then, for a fixed time,
send what a phone sends for a round walked offline:

  round    POST /api/v1/rounds/<uuid>/completion  the start and every item answered (on one round
                                                  in 3, one defect with a photo, which opens a
                                                  repair ticket or recurs on one): one request,
                                                  one transaction
  photo    PUT  /api/v1/photos/<uuid>             a 2048x1536 JPEG of about 400 KB, as the phone
                                                  makes it (no metadata: stored as sent)

One photo per 3 rounds is one per 90 findings: more photos than the targets' ratio (20 photos/s
beside 2,000 findings/s is one per 100 findings).

With --separate-steps each round takes the older three requests instead (the phone still does
this when the start went out online, before the round was walked):

  start    POST /api/v1/rounds                    a corridor round in one of their own buildings
  plan     GET  /api/v1/rounds/<uuid>             the checkpoints and items to answer
  round    POST /api/v1/rounds/<uuid>/completion  every item answered, one defect with a photo

Each database is measured twice. Back to back: every client sends its next round as soon as
the last answer came, which gives the capacity (findings and photos stored per second, wall
time of the run); latencies there are mostly queueing (8 clients always waiting on 2 cores).
Paced: the clients together offer --rate findings/s on a fixed schedule, as phones coming back
into signal do, and a round's latency counts from when it was due (a client held up by a slow
answer does not hide the delay: no coordinated omission); the p95 target is judged on this run,
which must also deliver the offered rate (within 2%). "round" is the completion POST of one
whole round. Then the database is grown to --large findings (bulk insert, gunicorn stopped) and
both runs are repeated to show whether the per-round cost grows with the database. Each run also shows where the
machine's CPU went (gunicorn, the load generator, other processes, time stolen by the hypervisor,
idle; Linux /proc): figures taken while other processes are busy are not comparable. Nor are
figures from two machines of the same kind: the same code has run at 18 ms and at 44 ms of
gunicorn CPU per round on two of them. The run starts by timing a fixed workload
(`reference_workload_ms`, best of 5) so that runs can be compared.

Targets: >= 2,000 findings/s, >= 20 photos/s, round p95 <= 100 ms (2 cores, SQLite, the load
generator on the same machine). The last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_common.py, also when imported from elsewhere

from _common import (  # noqa: E402
    PHOTO_SIZE,
    BenchPhoto,
    CpuSample,
    Instance,
    Phone,
    Server,
    World,
    app_for,
    flask_cli,
    multipart,
    new_uuid,
    pct,
    photo_like_jpeg,
    reference_workload_ms,
)
from _common import create_bench_data as _create_bench_data  # noqa: E402

STEWARDS = 8
BUILDINGS_PER_STEWARD = 4
FLOORS = 2
STAIRWELLS = (2, 1)  # floors served by each stairwell: 3 + 8 x 2 and 3 + 8 answers, a 30-finding round
DISTINCT_PHOTOS = 3
MAX_ERRORS_PER_CLIENT = 20
TARGET_VS_FLOOR = 3.0  # Xuncha's CPU per round without a photo, as a multiple of the floor's
TARGET_CPU_GROWTH = 1.1  # the same at the grown database, as a multiple of the small one's

TARGET_FINDINGS_PER_S = 2000
TARGET_PHOTOS_PER_S = 20
TARGET_ROUND_P95_MS = 100
PACE_SHORTFALL = 0.02  # a paced run that delivers less than 98% of the offered rate does not count


# The bench data


def create_bench_data(instance: Instance) -> World:
    """One estate, STEWARDS x BUILDINGS_PER_STEWARD buildings (two stairwells each, STAIRWELLS),
    STEWARDS stewards assigned estate-wide (each walks its own buildings in the benchmark)."""
    return _create_bench_data(instance, STEWARDS, BUILDINGS_PER_STEWARD, FLOORS, STAIRWELLS)


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


def timed(step: str, expected: int, times: list[float], call: Callable[[], tuple[int, bytes]],
          since: float | None = None) -> bytes:
    """Run one request, record its latency (from `since`, the time it was due, when given), check
    its status; returns the body."""
    start = time.perf_counter()
    status, body = call()
    times.append((time.perf_counter() - min(start, since if since is not None else start)) * 1000)
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
                   stats: ClientStats, rng: random.Random, plans: dict[int, dict], separate_steps: bool,
                   due: float | None = None) -> None:
    """One round and its defect's photo (no defect when `photo` is None). The first round of a
    building, or every round with `separate_steps`: start, plan, complete; then, from the plan
    kept in `plans`: start and completion in one request. `due`: when the round was due to be sent
    (a paced run), so that a round sent late counts its wait in its latency."""
    round_uuid = new_uuid()
    start = {"kind": "corridor", "estate_id": world.estate_id, "building_id": building_id,
             "started_at": datetime.now(timezone.utc).isoformat()}
    step_by_step = separate_steps or building_id not in plans
    if step_by_step:
        timed("start", 201, stats.start_ms, lambda: phone.post_json("/api/v1/rounds", {"uuid": round_uuid, **start}))
        plans[building_id] = json.loads(timed(
            "plan", 200, stats.plan_ms, lambda: phone.request("GET", f"/api/v1/rounds/{round_uuid}")))
    body, finding_uuid, photo_uuid = completion_body(plans[building_id], rng, with_photo=photo is not None)
    if not step_by_step:
        body["start"] = start
    done = json.loads(timed("completion", 201, stats.round_ms,
                            lambda: phone.post_json(f"/api/v1/rounds/{round_uuid}/completion", body), since=due))
    if done.get("uuid") != round_uuid:
        raise StepFailed(f"completion: the answer names {done.get('uuid')!r}, not {round_uuid}")
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
           ready: threading.Barrier, stats: ClientStats, separate_steps: bool, rate: float | None = None) -> None:
    """Sign in, walk one warm-up round per building, wait for the others, then walk rounds until
    time is up (a photo on every `photo_every`-th round): back to back, or with `rate` (findings
    per second offered by all clients together) each on a fixed schedule, as phones coming back
    into signal do, whatever the server's answers take (no coordinated omission: a round sent
    late because the previous one was slow counts from when it was due)."""
    _, username, buildings = world.stewards[index]
    rng = random.Random(index)
    plans: dict[int, dict] = {}  # building id -> its plan (the phone's offline pack)
    phone = Phone(port)
    try:
        phone.login(username)
        warmup = ClientStats()
        for building_id in buildings:
            walk_one_round(phone, world, building_id, photos[0], warmup, rng, plans, separate_steps)
        stats.warmup_findings = warmup.findings
    except Exception as exc:  # noqa: BLE001 - reported, and the barrier must still be reached
        stats.errors.append(f"warm-up: {exc!r}")
    per_round = sum(len(c["items"]) for c in plans[buildings[0]]["checkpoints"]) if plans else 30
    interval = STEWARDS * per_round / rate if rate else 0.0  # this client's seconds between rounds
    ready.wait()
    stats.began = time.perf_counter()
    deadline = stats.began + seconds
    due = stats.began + interval * index / STEWARDS  # the clients' schedules interleave
    n = 0
    while (due if rate else time.perf_counter()) < deadline and len(stats.errors) < MAX_ERRORS_PER_CLIENT:
        n += 1
        wait = due - time.perf_counter() if rate else 0.0
        if wait > 0:
            time.sleep(wait)  # the schedule itself: the next round is not due yet
        try:
            photo = photos[n % len(photos)] if n % photo_every == 0 else None
            walk_one_round(phone, world, buildings[n % len(buildings)], photo, stats, rng, plans, separate_steps,
                           due=due if rate else None)
        except (StepFailed, OSError, http.client.HTTPException, ValueError) as exc:
            stats.errors.append(str(exc))
        due += interval
    stats.ended = time.perf_counter()
    stats.reconnects = phone.reconnects
    phone.close()


# Measuring


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
        return 100 * max(0.0, self.cpu.busy - self.cpu.stolen - self.cpu.server - self.cpu.bench) / self.cpu.total

    @property
    def stolen_cpu_pct(self) -> float | None:
        """CPU time the hypervisor gave to other guests while this machine wanted it."""
        return 100 * self.cpu.stolen / self.cpu.total if self.cpu and self.cpu.total > 0 else None


def run_load(server: Server, world: World, photos: list[BenchPhoto], photo_every: int, seconds: float,
             separate_steps: bool, rate: float | None = None) -> RunResult:
    stats = [ClientStats() for _ in range(STEWARDS)]
    pids = server.worker_pids()
    cpu_at_start: list[CpuSample] = []
    ready = threading.Barrier(STEWARDS, action=lambda: cpu_at_start.append(server.cpu(pids)))
    threads = [
        threading.Thread(target=client, daemon=True,
                         args=(server.port, world, i, photos, photo_every, seconds, ready, stats[i], separate_steps,
                               rate))
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
            workers: int, threads: int, separate_steps: bool, rate: float | None = None) -> RunResult:
    """One run on a fresh gunicorn (clients back to back, or paced at `rate` findings/s); checks
    that the database holds exactly the findings the API confirmed."""
    before = count_findings(instance)
    with Server(instance, workers, threads) as server:
        result = run_load(server, world, photos, photo_every, seconds, separate_steps, rate)
    stored, confirmed = count_findings(instance) - before, result.findings + result.warmup_findings
    if stored != confirmed:
        result.errors.append(f"the database gained {stored} findings, the API confirmed {confirmed}")
    return result


# The floor: the same round body through a bare Flask app (bench/floor_app.py) under the same gunicorn

NO_PHOTO = 10**9  # photo_every for runs of rounds without a photo (n % NO_PHOTO is never 0)


def fetch_plan(instance: Instance, world: World, workers: int, threads: int) -> dict:
    """A corridor round's plan as the phone holds it (its offline pack): the body the floor is sent."""
    with Server(instance, workers, threads) as server:
        phone = Phone(server.port)
        try:
            _, username, buildings = world.stewards[0]
            phone.login(username)
            round_uuid = new_uuid()
            status, _ = phone.post_json("/api/v1/rounds", {
                "uuid": round_uuid, "kind": "corridor", "estate_id": world.estate_id, "building_id": buildings[0],
                "started_at": datetime.now(timezone.utc).isoformat()})
            if status != 201:
                raise RuntimeError(f"starting the plan's round answered {status}")
            status, body = phone.request("GET", f"/api/v1/rounds/{round_uuid}")
            if status != 200:
                raise RuntimeError(f"the plan answered {status}")
            return json.loads(body)
        finally:
            phone.close()


@dataclass
class FloorResult:
    rounds: int
    findings: int
    seconds: float
    cpu: CpuSample
    errors: list[str]

    @property
    def cpu_ms_per_round(self) -> float | None:
        return 1000 * self.cpu.server / self.rounds if self.rounds else None

    @property
    def rounds_per_s(self) -> float:
        return self.rounds / self.seconds if self.seconds else 0.0


def measure_floor(instance: Instance, plan: dict, seconds: float, workers: int, threads: int) -> FloorResult:
    """The same clients, back to back, posting the same completion body (no sign-in: the floor has none)."""
    import floor_app

    database = str(instance.root / "floor.db")
    floor_app.prepare(database)
    before = floor_app.count_findings(database)
    counts = [[0, 0] for _ in range(STEWARDS)]
    errors: list[str] = []
    with Server(instance, workers, threads, factory=f"floor_app:create_floor_app({database!r})") as server:
        pids = server.worker_pids()
        at_start: list[CpuSample] = []
        ready = threading.Barrier(STEWARDS, action=lambda: at_start.append(server.cpu(pids)))
        span: list[float] = []

        def floor_client(index: int) -> None:
            rng = random.Random(index)
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            ready.wait()
            began = time.perf_counter()
            span.append(began)
            try:
                while time.perf_counter() - began < seconds:
                    body, _, _ = completion_body(plan, rng, with_photo=False)
                    conn.request("POST", f"/api/v1/rounds/{new_uuid()}/completion", body=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
                    response = conn.getresponse()
                    data = response.read()
                    if response.status != 201:
                        errors.append(f"floor answered {response.status}: {data[:200]!r}")
                        break
                    counts[index][0] += 1
                    counts[index][1] += json.loads(data)["findings"]
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"floor: {exc!r}")
            finally:
                span.append(time.perf_counter())
                conn.close()

        threads_ = [threading.Thread(target=floor_client, args=(i,), daemon=True) for i in range(STEWARDS)]
        for t in threads_:
            t.start()
        for t in threads_:
            t.join(timeout=seconds + 120)
        cpu = server.cpu(pids) - at_start[0]
    rounds, findings = sum(c[0] for c in counts), sum(c[1] for c in counts)
    stored = floor_app.count_findings(database) - before
    if stored != findings:
        errors.append(f"the floor's database gained {stored} findings, its answers confirmed {findings}")
    return FloorResult(rounds, findings, max(span) - min(span), cpu, errors)


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
              f"stolen by the hypervisor {r.stolen_cpu_pct:.0f}%, "
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
    from app.models import (
        ChecklistItem,
        Finding,
        FindingResult,
        Round,
        RoundKind,
        RoundStatus,
    )

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
            return [answer for entrance, highest in world.stairwells_of[building_id] for answer in (
                [(i.id, entrance, None, i.reasons) for i in items if i.applies_to == "entrance"]
                + [(i.id, entrance, f, i.reasons) for f in range(1, highest + 1)
                   for i in items if i.applies_to == "floor"])]

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
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--threads", type=int, default=0,
                        help="gunicorn threads per worker: 0 (default) for sync workers, else gthread")
    parser.add_argument("--sweep", metavar="WxT,...",
                        help="first try these worker x thread settings (e.g. 1x8,2x4,4x2) for --sweep-seconds "
                             "each and keep the best by findings/s")
    parser.add_argument("--sweep-seconds", type=float, default=8.0)
    parser.add_argument("--photo-every", type=int, default=3, metavar="N",
                        help="a defect with a photo on every N-th round, the others all fine (default 3: a photo "
                             "per 90 findings, more than the targets' 20 photos per 2,000 findings)")
    parser.add_argument("--rate", type=float, default=TARGET_FINDINGS_PER_S, metavar="FINDINGS_PER_S",
                        help=f"what the paced runs offer, all clients together (default {TARGET_FINDINGS_PER_S})")
    parser.add_argument("--separate-steps", action="store_true",
                        help="start, plan and completion as three requests per round (the older flow)")
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
              f"{len(world.entrance_of)} buildings ({len(STAIRWELLS)} stairwells serving {', '.join(map(str, STAIRWELLS))} "
              f"floors); photos "
              f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG, {', '.join(f'{len(p.data) / 1000:.0f} kB' for p in photos)}")
        reference = reference_workload_ms()
        print(f"this machine: {os.cpu_count()} CPUs; reference workload {reference:.1f} ms (bench/_common.py: lower is "
              f"faster; compare runs only at a like figure)")
        print(f"load: {STEWARDS} client threads, {seconds:.0f} s per run, a photo on "
              f"{'every round' if args.photo_every == 1 else f'one round in {args.photo_every}'}")

        workers, threads = args.workers, args.threads
        if args.sweep:
            tried = []
            for w, th in parse_settings(args.sweep):
                r = measure(instance, world, photos, args.photo_every, args.sweep_seconds, w, th, args.separate_steps)
                tried.append((r.findings_per_s, w, th))
                print(f"  sweep {w} workers x {th or 'sync'} threads: {r.findings_per_s:6.0f} findings/s, "
                      f"{r.photos_per_s:5.1f} photos/s, round p95 {r.p('round', 95):6.1f} ms, errors {len(r.errors)}")
            _, workers, threads = max(tried)
        print(f"gunicorn: {f'gthread, {workers} workers x {threads} threads' if threads else f'{workers} sync workers'}")

        def both_runs(title: str) -> tuple[RunResult, RunResult]:
            """Back to back (capacity), then paced at the target rate (latency under that load)."""
            at_start = count_findings(instance)
            capacity = measure(instance, world, photos, args.photo_every, seconds, workers, threads,
                               args.separate_steps)
            report(f"{title}, {at_start:,} findings at the start: clients back to back (capacity)", capacity)
            paced = measure(instance, world, photos, args.photo_every, seconds, workers, threads,
                            args.separate_steps, rate=args.rate)
            report(f"{title}: clients paced at {args.rate:,.0f} findings/s together (latency at the target load; "
                   f"from when each round was due)", paced)
            return capacity, paced

        small, small_paced = both_runs("run 1, small database")
        # Costs as ratios in one run: Xuncha's CPU per round without a photo (every check, audit entry
        # and ticket rule kept) against the floor's, both under this gunicorn on this machine now.
        plain = measure(instance, world, photos, NO_PHOTO, seconds, workers, threads, args.separate_steps)
        report("run 1b, small database, rounds without a photo, back to back (Xuncha's CPU per round)", plain)
        floor = measure_floor(instance, fetch_plan(instance, world, workers, threads), seconds, workers, threads)
        print(f"\nthe floor (bench/floor_app.py: parse the same body, insert the same rows with one executemany): "
              f"{floor.rounds_per_s:.0f} rounds/s, {floor.cpu_ms_per_round or 0:.1f} ms of gunicorn CPU per round, "
              f"errors {len(floor.errors)}")
        plain_large = None
        large = large_paced = large_db = None
        grown = (0, 0, 0.0)
        if not args.skip_large:
            grown = grow_database(instance, world, args.large)
            print(f"grew the database: {grown[0]:,} rounds, {grown[1]:,} findings in {grown[2]:.1f} s "
                  f"({instance.database.stat().st_size / 1e6:.0f} MB)")
            large_db = count_findings(instance)
            large, large_paced = both_runs("run 2, grown database")
            plain_large = measure(instance, world, photos, NO_PHOTO, seconds, workers, threads, args.separate_steps)
            report("run 2b, grown database, rounds without a photo, back to back", plain_large)

        runs = [r for r in (small, small_paced, plain, large, large_paced, plain_large) if r is not None]
        errors = sum(len(r.errors) for r in runs) + len(floor.errors)
        round_cpu, floor_cpu = plain.server_cpu_ms_per_round, floor.cpu_ms_per_round
        round_cpu_large = plain_large.server_cpu_ms_per_round if plain_large else None
        vs_floor = round_cpu / floor_cpu if round_cpu and floor_cpu else None
        growth = round_cpu_large / round_cpu if round_cpu_large and round_cpu else None
        print(f"\nCPU per round without a photo: Xuncha {round_cpu or 0:.1f} ms, the floor {floor_cpu or 0:.1f} ms: "
              f"{vs_floor or 0:.2f}x the floor (target <= {TARGET_VS_FLOOR}x)"
              + (f"; at {large_db:,} findings {round_cpu_large:.1f} ms, {growth:.2f}x (target <= {TARGET_CPU_GROWTH}x)"
                 if growth else ""))

        def delivered(paced: RunResult) -> bool:
            return paced.findings_per_s >= args.rate * (1 - PACE_SHORTFALL)

        checks = {
            "findings_per_s": small.findings_per_s >= TARGET_FINDINGS_PER_S,
            "photos_per_s": small.photos_per_s >= TARGET_PHOTOS_PER_S,
            "paced_rate_delivered": args.rate >= TARGET_FINDINGS_PER_S and delivered(small_paced),
            "round_p95_ms": small_paced.p("round", 95) <= TARGET_ROUND_P95_MS,
        }
        if large:
            checks["findings_per_s_large_db"] = large.findings_per_s >= TARGET_FINDINGS_PER_S
            checks["paced_rate_delivered_large_db"] = delivered(large_paced)
            checks["round_p95_ms_large_db"] = large_paced.p("round", 95) <= TARGET_ROUND_P95_MS
        checks["round_cpu_vs_floor"] = vs_floor is not None and vs_floor <= TARGET_VS_FLOOR
        if growth is not None:
            checks["round_cpu_growth_large_db"] = growth <= TARGET_CPU_GROWTH
        checks["no_errors"] = errors == 0
        print(f"targets: findings/s >= {TARGET_FINDINGS_PER_S} and photos/s >= {TARGET_PHOTOS_PER_S} back to back; "
              f"round p95 <= {TARGET_ROUND_P95_MS} ms with the clients offering {TARGET_FINDINGS_PER_S} findings/s "
              f"(delivered within {PACE_SHORTFALL:.0%}); every response as expected")
        for name, ok in checks.items():
            print(f"  {name:<30} {'ok' if ok else 'MISSED'}")

        def r1(x: float | None) -> float | None:
            return None if x is None or math.isnan(x) else round(x, 1)

        print(json.dumps({
            "findings_per_s": r1(small.findings_per_s),
            "photos_per_s": r1(small.photos_per_s),
            "round_p95_ms": r1(small_paced.p("round", 95)),
            "round_p95_ms_large_db": r1(large_paced.p("round", 95)) if large_paced else None,
            "round_p50_ms": r1(small_paced.p("round", 50)),
            "paced_findings_per_s": r1(small_paced.findings_per_s),
            "paced_photos_per_s": r1(small_paced.photos_per_s),
            "paced_photo_p95_ms": r1(small_paced.p("photo", 95)),
            "round_p95_ms_back_to_back": r1(small.p("round", 95)),
            "round_p95_ms_back_to_back_large_db": r1(large.p("round", 95)) if large else None,
            "start_p95_ms": r1(small.p("start", 95)),
            "plan_p95_ms": r1(small.p("plan", 95)),
            "photo_p95_ms_back_to_back": r1(small.p("photo", 95)),
            "findings_per_s_large_db": r1(large.findings_per_s) if large else None,
            "photos_per_s_large_db": r1(large.photos_per_s) if large else None,
            "paced_findings_per_s_large_db": r1(large_paced.findings_per_s) if large_paced else None,
            "large_db_findings": large_db,
            "grow_seconds": r1(grown[2]) if large else None,
            "findings_per_round": small.findings_per_round,
            "photo_every": args.photo_every,
            "offered_findings_per_s": args.rate,
            "requests_per_round": (3 if args.separate_steps else 1) + (1 / args.photo_every),
            "floor_cpu_ms_per_round": r1(floor_cpu),
            "floor_rounds_per_s": r1(floor.rounds_per_s),
            "round_cpu_ms": r1(round_cpu),
            "round_cpu_ms_large_db": r1(round_cpu_large),
            "round_cpu_vs_floor": None if vs_floor is None else round(vs_floor, 2),
            "round_cpu_growth_large_db": None if growth is None else round(growth, 3),
            "server_cpu_ms_per_round": r1(small.server_cpu_ms_per_round),
            "server_cpu_ms_per_round_large_db": r1(large.server_cpu_ms_per_round) if large else None,
            "other_processes_cpu_pct": r1(small.others_cpu_pct),
            "other_processes_cpu_pct_large_db": r1(large.others_cpu_pct) if large else None,
            "stolen_cpu_pct": r1(small.stolen_cpu_pct),
            "reference_workload_ms": r1(reference),
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
