"""Benchmark of the desk's pages on a year of 50 estates: review list, overdue tickets, monthly summary.

Run from the repo root:  .venv/bin/python bench/desk.py [--quick] [--samples 30] [--no-cache] [--keep]
                         [--db postgresql]
Other options: --estates N and --days N (the large database; default 50 estates, 365 days: about
1,000,000 findings and 100,000 tickets; --estates 500 makes about 10,000,000 and 1,000,000),
--small N (findings in the small database; default 10000), --deep N (pages followed for the
deep page; default 20), --warmup N, --explain (EXPLAIN QUERY PLAN of the slowest statements of
the cases over target, or else of the cases with the slowest statements).

Data. A year of 50 estates (3 buildings of one stairwell and 9 floors, 54 units, meters, public
areas, lifts) walked as the manual says: corridors weekly, the facility round on Thursdays,
decorating units daily, vacant units and meters monthly; about 2.5% of checked items defective,
each defect a repair ticket (or seen again on the open one), plus about four phone and walk-in
reports a day per estate; tickets moved through dispatch, on site, repaired, checked or visited,
closed, with a few cancelled and a few stuck (overdue); photos named by the defects that need one;
the desk's review marks on all but the last two days. About 1,000,000 findings and 100,000
tickets. The schema comes from the migrations (flask db upgrade) and the checklists from
sync-checklists; estates, places and users are made with the ORM, and the history is bulk
inserted with sqlite3 (executemany, one transaction, secondary indexes built afterwards). The
database is cached under ~/.cache/xuncha-bench/desk/<key>, the key a hash of the migrations,
the checklists, this generator's version and its size; each run times a copy.

On PostgreSQL (--db postgresql; BENCH_PG_URL names a superuser's connection, default
postgresql://postgres@127.0.0.1:5432/postgres) the same generator's rows go in with COPY (psycopg),
secondary indexes built afterwards, foreign keys not checked row by row, then VACUUM ANALYZE. The
result is kept as a template database, xuncha_desk_g<generator version>_<estates>x<days> (its dates
in ~/.cache/xuncha-bench/desk/pg/<name>.json), brought to the migrations' head at each run (a new
migration's indexes are built into it once, as a deployment would get them) and copied for the run
(CREATE DATABASE ... TEMPLATE; dropped afterwards unless --keep). 10,000,000 findings take about an
hour to generate on 2 busy cores; a copy takes seconds. The query plans (EXPLAIN ANALYZE, BUFFERS)
of the slowest statements are always printed there.

The small database is estates 1-3 alone, the ones the timed users see (the same generator and
seeds, so the same places, users and ids), over the last 62 days (about 10,000 findings; the last
whole month is in it). The growth ratio compares pages that show as much on both databases (the
same page number, as many findings, about as many overdue tickets), so it is what a hundred times more data costs, not what more
content costs; the others are listed as not comparable.

Timing. The app (create_app) on the copy, Flask's test client signed in through the login form
(CSRF included); each case is a whole page response: routing, queries, rendering, the body read.
Warm-up requests first, then --samples requests, the two databases' requests interleaved (so
both see the same machine); p50 and p95 of the wall-clock time per case, and the median CPU time
of this process per response (robust to other processes' load, which is reported).

  list       GET /desk/findings as estate 1's desk user (one estate) and the regional desk user
             (estates 1-3): first page of several filter combinations
  deep       the same filters, the page --deep pages down (following the 'next' links)
  overdue    GET /tickets/overdue as estate 1's supervisor
  summary    GET /reports/summary?estate=<id>&period=month&start=YYYY-MM-01, the last whole month

A page that does not exist yet (404 for a signed-in user) is reported as missing, not timed, and
a page that fails is reported with its error; a kind with such a case gets null in the JSON line.
Targets: p95 <= 150 ms per case on SQLite; growth <= 2x, the growth of a case being its p50 on the
large database over its p50 on the small one (medians: a p95 of 30 samples moves with whatever
else the machine does; the p95 and CPU ratios are printed too). The last line printed is one JSON
object with the worst p95 of each kind over its cases and the largest growth ratio.
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import logging
import math
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _common import reference_workload_ms  # noqa: E402  (bench/ is sys.path[0] when run as a script)

GENERATOR_VERSION = 3
CACHE_DIR = Path.home() / ".cache" / "xuncha-bench" / "desk"
TIMEZONE = "Asia/Shanghai"
TZ = ZoneInfo(TIMEZONE)
PASSWORD = "bench-password-1"
SEED = 20261127

BUILDINGS, FLOORS, UNITS_PER_FLOOR = 3, 9, 2
VACANT_PER_ESTATE = 5
DEFECT_RATE = 0.025  # of checked items
INTAKE_PER_DAY = (2, 7)  # phone and walk-in reports per estate and day (uniform)
STUCK_SHARE = 0.015  # tickets open for weeks: waiting on a part, an owner, an outside party
CANCEL_SHARE = 0.03
UNREVIEWED_SHARE = 0.005  # older rounds the desk has not marked reviewed

SMALL_ESTATES = 3  # the small database: the estates the timed users see (desk 1: estate 1; regional desk: 1-3)

TARGET_P95_MS = 150.0
TARGET_GROWTH = 2.0
LIST_PAGE = 50


# --- helpers -----------------------------------------------------------------------------


def utc_text(at: datetime) -> str:
    """How SQLAlchemy's UTCDateTime stores an instant on SQLite."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def local(day: date, hour: float) -> datetime:
    """An instant on a local day at a fractional local hour."""
    return datetime(day.year, day.month, day.day, tzinfo=TZ) + timedelta(hours=hour)


def new_uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def cache_key(estates: int, days: int) -> str:
    h = hashlib.sha256()
    for folder, pattern in ((ROOT / "migrations" / "versions", "*.py"), (ROOT / "app" / "checklists" / "data", "*.json")):
        for path in sorted(folder.glob(pattern)):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    h.update(f"gen{GENERATOR_VERSION}:{estates}:{days}".encode())
    return h.hexdigest()[:16]


def database_url(database: Path | str) -> str:
    """A SQLite file's URL, or the PostgreSQL URL as it is."""
    return database if isinstance(database, str) else f"sqlite:///{database}"


def app_for(database: Path | str, root: Path):  # noqa: ANN201
    from app import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": database_url(database), "INSTANCE_PATH": str(root / "instance"),
        "PHOTO_DIR": str(root / "photos"), "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
        "LOGIN_FAILURE_LIMIT": "100000 per minute",
    })


# --- the world: estates, places, users (ORM) ----------------------------------------------


@dataclass
class Item:
    id: int
    code: str
    applies_to: str
    type: str
    route: str
    urgency: str
    photo_required: bool
    required: bool
    reasons: list
    actions: list
    meter_kind: str | None
    label: str


@dataclass
class EstateWorld:
    index: int
    id: int
    buildings: list[int]
    entrance_of: dict[int, int]  # building -> its stairwell
    units: list[tuple[int, int, int, int, str]]  # (id, building, entrance, floor, state)
    meters: list[tuple[int, int | None, int | None, str]]  # (id, unit, building, kind)
    areas: list[tuple[int, str]]
    elevators: list[int]
    steward_a: int  # buildings 1-2 and the estate-wide rounds
    steward_b: int  # building 3
    desk: int
    supervisor: int
    engineering: int


def create_world(app, estates: int) -> tuple[list[EstateWorld], dict[str, int]]:  # noqa: ANN001
    """Estates with their places and staff, estate 1 first (same ids in every database size), then
    the regional desk user (estates 1-3), then the other estates."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import (
        Asset,
        AssetKind,
        Building,
        ContactRelation,
        Entrance,
        Estate,
        Meter,
        MeterKind,
        OwnerContact,
        PublicArea,
        PublicAreaKind,
        Role,
        Unit,
        UnitState,
        User,
        VacancyReason,
    )

    with app.app_context():
        template = User(username="template", display_name="", role=Role.DESK)
        template.set_password(PASSWORD)  # scrypt is slow: hash once, copy the hash
        worlds, extra = [], {}
        made: list[Estate] = []

        def user(username: str, name: str, role: Role, **kw) -> User:  # noqa: ANN003
            u = User(username=username, display_name=name, role=role, password_hash=template.password_hash, **kw)
            db.session.add(u)
            return u

        def make_estate(n: int) -> None:
            rng = random.Random(SEED + n)
            estate = Estate(code=f"E{n:02d}", name=f"基準花園{n:02d}", address=f"深圳市南山區基準路 {n} 號",
                            timezone=TIMEZONE)
            db.session.add(estate)
            buildings = []
            for b in range(1, BUILDINGS + 1):
                building = Building(code=f"B{b}", name=f"{b}棟", floors=FLOORS, position=b)
                entrance = Entrance(code="E1", name="1梯", lowest_floor=1, highest_floor=FLOORS, position=1)
                building.entrances.append(entrance)
                estate.buildings.append(building)
                buildings.append(building)
                for floor in range(1, FLOORS + 1):
                    for k in range(1, UNITS_PER_FLOOR + 1):
                        unit = Unit(room_number=f"1-{floor}{k:02d}", floor=floor, area_m2=89, layout="兩室兩廳",
                                    entrance=entrance, state=UnitState.OCCUPIED)
                        building.units.append(unit)
                        unit.contacts.append(OwnerContact(relation=ContactRelation.OWNER, name=f"業主{n}-{b}{floor}{k}",
                                                          phone=f"139{rng.randint(10000000, 99999999)}"))
                        for kind, prefix in ((MeterKind.WATER, "W"), (MeterKind.ELECTRICITY, "E")):
                            db.session.add(Meter(estate=estate, building=building, unit=unit, kind=kind,
                                                 serial=f"{prefix}-{n}-{b}-{unit.room_number}", location=f"{floor}F"))
                for kind, prefix in ((MeterKind.WATER, "W"), (MeterKind.ELECTRICITY, "E")):
                    db.session.add(Meter(estate=estate, building=building, kind=kind, serial=f"{prefix}-{n}-{b}-PUB",
                                         location="1F 公共"))
                db.session.add(Asset(estate=estate, entrance=entrance, kind=AssetKind.ELEVATOR, name=f"{b}棟電梯"))
                db.session.add(Asset(estate=estate, entrance=entrance, kind=AssetKind.ENTRANCE_DOOR, name=f"{b}棟入戶門"))
            all_units = [u for b in buildings for u in b.units]
            for unit in rng.sample(all_units, VACANT_PER_ESTATE):
                unit.state, unit.vacancy_reason = UnitState.VACANT, VacancyReason.UNSOLD
            for position, kind in enumerate(PublicAreaKind):
                estate.public_areas.append(PublicArea(kind=kind, name=kind.value, position=position))
            for kind, prefix in ((MeterKind.WATER, "W"), (MeterKind.ELECTRICITY, "E")):
                db.session.add(Meter(estate=estate, kind=kind, serial=f"{prefix}-{n}-GARAGE", location="車庫"))
            user(f"s{n}a", f"管家 {n}A", Role.STEWARD, estates=[estate], buildings=buildings[:2])
            user(f"s{n}b", f"管家 {n}B", Role.STEWARD, buildings=buildings[2:])
            user(f"desk{n}", f"前台 {n}", Role.DESK, estates=[estate])
            user(f"sup{n}", f"主管 {n}", Role.SUPERVISOR, estates=[estate])
            user(f"eng{n}", f"工程 {n}", Role.ENGINEERING, estates=[estate])
            made.append(estate)
            db.session.flush()

        make_estate(1)
        regional = user("deskr", "前台 區域", Role.DESK, estates=list(made))
        db.session.flush()
        for n in range(2, estates + 1):
            make_estate(n)
            if n <= 3:
                regional.estates.append(made[-1])
        db.session.commit()

        users = {u.username: u.id for u in db.session.scalars(sa.select(User))}
        extra = {"deskr": users["deskr"]}
        for n, estate in enumerate(made, start=1):
            units = []
            for b in estate.buildings:
                for u in b.units:
                    units.append((u.id, b.id, u.entrance_id, u.floor, u.state.value))
            building_of_unit = {u[0]: u[1] for u in units}
            meters = [(m.id, m.unit_id, m.building_id if m.unit_id is None else building_of_unit[m.unit_id], m.kind.value)
                      for m in db.session.scalars(sa.select(Meter).where(Meter.estate_id == estate.id).order_by(Meter.id))]
            elevators = [a.id for a in db.session.scalars(sa.select(Asset).where(
                Asset.estate_id == estate.id, Asset.kind == AssetKind.ELEVATOR).order_by(Asset.id))]
            worlds.append(EstateWorld(
                index=n, id=estate.id, buildings=[b.id for b in estate.buildings],
                entrance_of={b.id: b.entrances[0].id for b in estate.buildings}, units=units, meters=meters,
                areas=[(a.id, a.kind.value) for a in estate.public_areas], elevators=elevators,
                steward_a=users[f"s{n}a"], steward_b=users[f"s{n}b"], desk=users[f"desk{n}"],
                supervisor=users[f"sup{n}"], engineering=users[f"eng{n}"],
            ))
        db.session.remove()
    return worlds, extra


def checklist_items(conn) -> tuple[dict[str, list[Item]], dict[str, int]]:  # noqa: ANN001
    """The latest version of every checklist: its items by kind, and the version ids (a sqlite3 or a
    psycopg connection)."""
    mark = "?" if isinstance(conn, sqlite3.Connection) else "%s"
    as_list = lambda v: v if isinstance(v, list) else json.loads(v)  # noqa: E731 - psycopg reads JSON already
    versions = {kind: vid for vid, kind in conn.execute(
        "SELECT id, kind FROM checklist_version v WHERE version = (SELECT max(version) FROM checklist_version w "
        "WHERE w.kind = v.kind)")}
    items: dict[str, list[Item]] = {}
    for kind, vid in versions.items():
        rows = conn.execute(
            "SELECT id, code, applies_to, item_type, route, urgency, photo_required, required, reasons, actions, "
            f"meter_kind, label_zh_hant FROM checklist_item WHERE version_id = {mark} ORDER BY position",
            (vid,)).fetchall()
        items[kind] = [Item(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7]), as_list(r[8]),
                            as_list(r[9]), r[10], r[11]) for r in rows]
    return items, versions


# --- the history (sqlite3, bulk) ----------------------------------------------------------

FINDING_COLUMNS = ("id, uuid, round_id, checklist_item_id, entrance_id, floor, public_area_id, asset_id, unit_id, "
                   "meter_id, result, reason_code, reason_text, action_code, note, reading_value, flags, recorded_at, "
                   "received_at, ticket_id, reviewed_at, reviewed_by_id")
ROUND_COLUMNS = ("id, uuid, kind, estate_id, building_id, unit_id, steward_id, checklist_version_id, local_date, "
                 "status, started_at, completed_at, completion_sha256")
TICKET_COLUMNS = ("id, number, estate_id, building_id, entrance_id, floor, public_area_id, asset_id, unit_id, meter_id, "
                  "item_code, channel, route, urgency, is_unit_repair, description, status, recurrences, created_at, "
                  "due_at, visit_due_at, closed_at, created_by_id, reporter_name, reporter_phone, place_text, "
                  "expectation, dispatched_to, dispatched_at, on_site_due_at, on_site_at, repaired_at, merged_into_id")
EVENT_COLUMNS = "id, ticket_id, at, by_id, kind, from_status, to_status, note, data"
PHOTO_COLUMNS = ("id, uuid, finding_uuid, finding_id, status, uploaded_by_id, sha256, source_format, width, height, "
                 "byte_size, display_key, thumb_key, captured_at, received_at, ticket_id")
TICKET_ROUTES = {"engineering", "cleaning", "outside_party"}
DONE_HOURS = {"urgent": 24, "normal": 24, "planned": 7 * 24}
INTAKE = [("廚房水龍頭滴水", "廚房"), ("主臥插座沒電", "主臥"), ("衛生間地漏反味", "衛生間"), ("入戶門鎖卡滯", "入戶門"),
          ("陽台排水不暢", "陽台"), ("熱水器漏水", "廚房"), ("窗戶密封條脫落", "客廳窗"), ("馬桶水箱一直流水", "主衛")]
TEAMS = {"engineering": "工程部", "cleaning": "保潔組", "outside_party": "外協單位"}


@dataclass
class Slot:
    """One answer of a round: an item at a place."""

    item: Item
    place: tuple  # entrance, floor, public area, asset, unit, meter
    checkpoint: int


@dataclass
class Counters:
    round_id: int = 0
    finding_id: int = 0
    ticket_id: int = 0
    event_id: int = 0
    photo_id: int = 0
    comment_id: int = 0
    numbers: dict = field(default_factory=lambda: defaultdict(int))


@dataclass
class Rows:
    rounds: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    tickets: list = field(default_factory=list)
    events: list = field(default_factory=list)
    photos: list = field(default_factory=list)
    comments: list = field(default_factory=list)


class EstateHistory:
    """One estate's year, generated in time order with its own random stream."""

    def __init__(self, world: EstateWorld, items: dict[str, list[Item]], versions: dict[str, int],
                 first: date, last: date, counters: Counters, rows: Rows) -> None:
        self.w, self.items, self.versions = world, items, versions
        self.first, self.last = first, last
        self.end = local(last + timedelta(days=1), 0)  # nothing happens after the data's last day
        self.c, self.rows = counters, rows
        self.rng = random.Random(SEED * 1000 + world.index)  # replaced by each day's own in run()
        self.open_tickets: dict[tuple, tuple[int, datetime]] = {}  # (place, item) -> (ticket row index, closes)
        self.meter_value: dict[int, float] = {}
        self.templates: dict[tuple, list[Slot]] = {}

    # what a round walks, as app.rounds.plan.build_plan lays it out

    def slots(self, kind: str, building: int | None, unit: int | None) -> list[Slot]:
        key = (kind, building, unit)
        if key in self.templates:
            return self.templates[key]
        items, w = self.items[kind], self.w
        points: list[tuple[str, tuple, str | None]] = []  # (applies_to, place, meter kind)
        if kind == "corridor":
            e = w.entrance_of[building]
            points.append(("entrance", (e, None, None, None, None, None), None))
            points += [("floor", (e, f, None, None, None, None), None) for f in range(1, FLOORS + 1)]
        elif kind == "facility":
            points.append(("estate", (None,) * 6, None))
            points += [(k, (None, None, a, None, None, None), None) for a, k in w.areas]
            points += [("entrance", (w.entrance_of[b], None, None, None, None, None), None) for b in w.buildings]
            points += [("elevator", (None, None, None, a, None, None), None) for a in w.elevators]
        elif kind in ("vacant_unit", "decoration"):
            points.append(("unit", (None, None, None, None, unit, None), None))
        else:
            meters = [m for m in w.meters if m[2] == building] if building else [m for m in w.meters if m[2] is None]
            points += [("meter", (None, None, None, None, None, m[0]), m[3]) for m in meters]
        result = []
        for n, (applies, place, meter_kind) in enumerate(points):
            for item in items:
                if item.applies_to != applies:
                    continue
                if meter_kind is not None:
                    if item.type == "reading" and item.meter_kind != meter_kind:
                        continue
                    if item.type == "check" and item.code != "MTR-BOX":
                        continue  # the optional anomaly checks are answered only when something is wrong
                result.append(Slot(item, place, n))
        self.templates[key] = result
        return result

    # the calendar

    def walks(self, day: date) -> list[tuple[datetime, str, int | None, int | None, int]]:
        """(start, kind, building, unit, steward) of the day's rounds, in time order."""
        rng, w = self.rng, self.w
        steward_of = {b: (w.steward_b if i == BUILDINGS - 1 else w.steward_a) for i, b in enumerate(w.buildings)}
        vacant = [u for u in w.units if u[4] == "vacant"]
        occupied = [u for u in w.units if u[4] != "vacant"]
        out = []
        n = (day - date(2020, 1, 6)).days
        hour = {w.steward_a: 9.0, w.steward_b: 9.0}

        def at(steward: int, minutes: int) -> datetime:
            start = hour[steward] + rng.random() * 0.2
            hour[steward] = start + minutes / 60 + 0.1
            return local(day, start)

        decorating = occupied[(n // 90) % len(occupied)] if n % 90 < 60 else None
        if decorating and rng.random() > 0.05:
            out.append((at(steward_of[decorating[1]], 15), "decoration", decorating[1], decorating[0],
                        steward_of[decorating[1]]))
        if day.weekday() in (1, 2):  # corridors on Tuesday, a few on Wednesday, now and then missed
            week = random.Random(f"{SEED}:{w.index}:{day - timedelta(days=day.weekday())}")
            for b in w.buildings:
                wednesday, missed = week.random() < 0.2, week.random() < 0.03
                if not missed and wednesday == (day.weekday() == 2):
                    out.append((at(steward_of[b], 45), "corridor", b, None, steward_of[b]))
        if day.weekday() == 3 and rng.random() > 0.03:
            out.append((at(w.steward_a, 70), "facility", None, None, w.steward_a))
        if day.day == 2 + w.index % 5:
            for b in w.buildings:
                out.append((at(steward_of[b], 60), "meter", b, None, steward_of[b]))
            out.append((at(w.steward_a, 10), "meter", None, None, w.steward_a))
        if day.day == 8 + w.index % 5:
            for u in vacant:
                out.append((at(steward_of[u[1]], 12), "vacant_unit", u[1], u[0], steward_of[u[1]]))
        return out

    def run(self) -> None:
        """Day by day, each day with its own random stream: a day holds the same rounds, findings and
        reports in every database that covers it, whatever its first day."""
        day = self.first
        while day <= self.last:
            self.rng = random.Random(f"{SEED}:{self.w.index}:{day.isoformat()}")
            for start, kind, building, unit, steward in self.walks(day):
                self.round(start, kind, building, unit, steward)
            self.intake(day)
            day += timedelta(days=1)

    # rounds and findings

    def round(self, start: datetime, kind: str, building: int | None, unit: int | None, steward: int) -> None:
        rng, c, w = self.rng, self.c, self.w
        slots = self.slots(kind, building if unit is None else None, unit) if kind != "meter" else \
            self.slots(kind, building, None)
        minutes = max(8, len(slots) // 2)
        done = start + timedelta(minutes=minutes)
        c.round_id += 1
        rid = c.round_id
        round_uuid = new_uuid(rng)
        self.rows.rounds.append((
            rid, round_uuid, kind, w.id, building, unit, steward, self.versions[kind], start.astimezone(TZ).date().isoformat(),
            "completed", utc_text(start), utc_text(done), f"{rng.getrandbits(256):064x}"))
        received = utc_text(done)
        recent = done > self.end - timedelta(days=2)
        reviewed_at, reviewed_by = (None, None) if recent or rng.random() < UNREVIEWED_SHARE else (
            utc_text(min(done + timedelta(hours=1 + rng.random() * 30), self.end - timedelta(minutes=1))), w.desk)
        step = timedelta(minutes=minutes) / max(1, slots[-1].checkpoint + 1)
        stamps: dict[int, str] = {}
        findings = self.rows.findings
        for slot in slots:
            item = slot.item
            stamp = stamps.get(slot.checkpoint)
            if stamp is None:
                stamp = stamps[slot.checkpoint] = utc_text(start + step * slot.checkpoint)
            c.finding_id += 1
            fid = c.finding_id
            uuid = new_uuid(rng)
            reading = None
            if item.type == "reading":
                meter = slot.place[5]
                last = self.meter_value.get(meter)
                last = (rng.randint(100, 900) if item.meter_kind == "water" else rng.randint(1000, 20000)) \
                    if last is None else last + (rng.randint(3, 15) if item.meter_kind == "water" else rng.randint(80, 400))
                self.meter_value[meter] = last
                reading = last
            if item.type == "check" and item.reasons and rng.random() < DEFECT_RATE:
                reason = rng.choice(item.reasons)["code"]
                ticket = self.ticket_for_defect(slot, building, done, steward, uuid, round_uuid, fid)
                findings.append((fid, uuid, rid, item.id, *slot.place, "defect", reason, "",
                                 item.actions[0]["code"] if item.actions and rng.random() < 0.7 else None, "", None,
                                 "[]", stamp, received, ticket, reviewed_at, reviewed_by))
                if item.photo_required:
                    c.photo_id += 1
                    self.rows.photos.append((
                        c.photo_id, new_uuid(rng), uuid, fid, "stored", steward, f"{rng.getrandbits(256):064x}", "JPEG",
                        2048, 1536, 350_000, f"k{rng.getrandbits(120):030x}", f"k{rng.getrandbits(120):030x}",
                        stamp, received, None))
                if reviewed_at and rng.random() < 0.05:
                    c.comment_id += 1
                    self.rows.comments.append((c.comment_id, fid, w.desk, reviewed_at, "已通知相關人員跟進"))
            else:
                findings.append((fid, uuid, rid, item.id, *slot.place, "fine", None, "", None, "", reading, "[]",
                                 stamp, received, None, reviewed_at, reviewed_by))

    # tickets

    def number(self, at: datetime) -> str:
        day = at.astimezone(TZ).date()
        self.c.numbers[day] += 1
        return f"WX-{day:%Y%m%d}-{self.c.numbers[day]:04d}"

    def event(self, ticket: int, at: datetime, by: int | None, kind: str, before: str | None, after: str | None,
              note: str = "", data: dict | None = None) -> None:
        self.c.event_id += 1
        self.rows.events.append((self.c.event_id, ticket, utc_text(at), by, kind, before, after, note,
                                 json.dumps(data or {}, ensure_ascii=False)))

    def ticket_for_defect(self, slot: Slot, building: int | None, at: datetime, steward: int, finding_uuid: str,
                          round_uuid: str, finding_id: int) -> int | None:
        item = slot.item
        if item.route not in TICKET_ROUTES:
            return None
        key = (slot.place, item.code)
        open_one = self.open_tickets.get(key)
        if open_one is not None and open_one[1] > at:  # still open: seen again
            index = open_one[0]
            row = list(self.rows.tickets[index])
            row[17] += 1
            self.rows.tickets[index] = tuple(row)
            self.event(row[0], at, steward, "seen_again", row[16], row[16], "",
                       {"finding_uuid": finding_uuid, "round_uuid": round_uuid})
            return row[0]
        ticket = self.lifecycle(at, building=building, place=slot.place, item_code=item.code, channel="round",
                                route=item.route, urgency=item.urgency, unit_repair=False, created_by=steward,
                                description=item.label, opened_data={"finding_uuid": finding_uuid, "round_uuid": round_uuid})
        self.open_tickets[key] = (len(self.rows.tickets) - 1, self.closes_at)
        return ticket

    def intake(self, day: date) -> None:
        """The day's phone calls and walk-ins: mostly unit repairs, some public places."""
        rng, w = self.rng, self.w
        occupied = [u for u in w.units if u[4] != "vacant"]
        for _ in range(rng.randint(*INTAKE_PER_DAY)):
            at = local(day, 8 + rng.random() * 12)
            text, where = rng.choice(INTAKE)
            channel = rng.choice(["phone", "walk_in"])
            if rng.random() < 0.8:
                u = rng.choice(occupied)
                place, building, unit_repair = (u[2], u[3], None, None, u[0], None), u[1], True
            else:
                area = rng.choice(w.areas)
                place, building, unit_repair = (None, None, area[0], None, None, None), None, False
            self.lifecycle(at, building=building, place=place, item_code=None,
                           channel=channel, route="engineering", urgency="normal",
                           unit_repair=unit_repair, created_by=w.desk, description=text,
                           reporter=(f"住戶{rng.randint(1, 999)}", f"138{rng.randint(10000000, 99999999)}", where,
                                     "盡快上門"), opened_data={"channel": channel})

    def lifecycle(self, at: datetime, *, building: int | None, place: tuple, item_code: str | None, channel: str,
                  route: str, urgency: str, unit_repair: bool, created_by: int, description: str,
                  reporter: tuple = ("", "", "", ""), opened_data: dict) -> int:
        """A ticket and its events up to the end of the data: dispatched, on site, repaired, checked
        (public) or visited (unit), closed; a few cancelled, a few stuck open."""
        rng, w, end = self.rng, self.w, self.end
        self.c.ticket_id += 1
        tid = self.c.ticket_id
        due = at + timedelta(hours=DONE_HOURS[urgency])
        on_site_due = at + timedelta(minutes=30) if urgency == "urgent" else None
        status = "new"
        self.event(tid, at, created_by, "opened", None, "new", "", opened_data)
        dispatched_at = on_site_at = repaired_at = closed_at = visit_due = None
        dispatched_to = ""
        fate = rng.random()
        self.closes_at = end + timedelta(days=3650)
        t = at + timedelta(hours=0.2 + rng.random() * 2)
        if t < end and fate < CANCEL_SHARE:
            self.event(tid, t, w.desk, "cancel", status, "cancelled", "住戶已自行處理")
            status, closed_at = "cancelled", t
        elif t < end:
            dispatched_to, dispatched_at = TEAMS[route], t
            self.event(tid, t, w.desk, "dispatch", status, "dispatched", "", {"to": dispatched_to})
            status = "dispatched"
            t += timedelta(hours=1 + rng.random() * 5)
            if t < end:
                on_site_at = t
                self.event(tid, t, w.engineering, "start", status, "in_progress")
                status = "in_progress"
                stuck = fate > 1 - STUCK_SHARE
                # Stuck ones wait weeks (a part, an owner, an outside party) and are chased up in the end.
                t += timedelta(days=20 + rng.random() * 40) if stuck else timedelta(hours=1 + rng.random() * 26) \
                    if rng.random() > 0.05 else timedelta(days=3 + rng.random() * 12)
                if t < end:
                    repaired_at = t
                    self.event(tid, t, w.engineering, "repair", status, "repaired", "已修復",
                               {"parts": "", "chargeable": False, "amount": None})
                    status = "repaired"
                    if unit_repair:
                        visit_due = t + timedelta(hours=48)
                    t += timedelta(hours=4 + rng.random() * 60)
                    if t < end:
                        if unit_repair:
                            grade = rng.choices("ABC", [0.8, 0.15, 0.05])[0]
                            self.event(tid, t, w.desk, "return_visit", status, "closed", "", {"grade": grade,
                                                                                              "escalated": False})
                        else:
                            checker = w.steward_b if building == w.buildings[-1] else w.steward_a
                            self.event(tid, t, checker, "verified", status, "closed")
                        status, closed_at = "closed", t
        if status in ("closed", "cancelled"):
            self.closes_at = closed_at
        entrance, floor, area, asset, unit, meter = place
        self.rows.tickets.append((
            tid, self.number(at), w.id, building, entrance, floor, area, asset, unit, meter, item_code, channel, route,
            urgency, unit_repair, description, status, 0, utc_text(at), utc_text(due),
            utc_text(visit_due) if visit_due else None, utc_text(closed_at) if closed_at else None, created_by,
            reporter[0], reporter[1], reporter[2], reporter[3], dispatched_to,
            utc_text(dispatched_at) if dispatched_at else None, utc_text(on_site_due) if on_site_due else None,
            utc_text(on_site_at) if on_site_at else None, utc_text(repaired_at) if repaired_at else None, None))
        return tid


def insert_history(db_path: Path, worlds: list[EstateWorld], first: date, last: date) -> dict:
    """Bulk-insert every estate's history in one transaction; secondary indexes are built afterwards."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    conn.execute("PRAGMA temp_store=MEMORY")
    items, versions = checklist_items(conn)
    tables = ("round", "finding", "repair_ticket", "ticket_event", "photo", "finding_comment")
    indexes = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
        f"({','.join('?' * len(tables))})", tables).fetchall()
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    counters = Counters()
    totals = defaultdict(int)
    for world in worlds:
        rows = Rows()
        EstateHistory(world, items, versions, first, last, counters, rows).run()
        for table, columns, data in (("round", ROUND_COLUMNS, rows.rounds), ("repair_ticket", TICKET_COLUMNS, rows.tickets),
                                     ("finding", FINDING_COLUMNS, rows.findings), ("ticket_event", EVENT_COLUMNS, rows.events),
                                     ("photo", PHOTO_COLUMNS, rows.photos),
                                     ("finding_comment", "id, finding_id, by_id, at, text", rows.comments)):
            if data:
                marks = ",".join("?" * len(data[0]))
                conn.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', data)
                totals[table] += len(data)
    conn.executemany("INSERT INTO ticket_counter (day, last) VALUES (?, ?)",
                     [(d.isoformat(), n) for d, n in sorted(counters.numbers.items())])
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    return dict(totals)


def build_database(db_path: Path, estates: int, days: int, last: date) -> dict:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.rounds.checklists import sync_checklists

    root = db_path.parent
    app = app_for(db_path, root)
    with app.app_context():
        upgrade()
        sync_checklists(db.session)
        db.session.commit()
        db.session.remove()
    worlds, _ = create_world(app, estates)
    with app.app_context():
        db.engine.dispose()
    first = last - timedelta(days=days - 1)
    t = time.perf_counter()
    totals = insert_history(db_path, worlds, first, last)
    totals["seconds"] = round(time.perf_counter() - t, 1)
    return {"estates": estates, "days": days, "first": first.isoformat(), "last": last.isoformat(), "rows": totals}


def cached_database(estates: int, days: int, use_cache: bool, work: Path, last: date | None = None) -> tuple[Path, dict]:
    """The database for this size: from the cache (copied into `work`), else generated (and cached)."""
    key = cache_key(estates, days)
    folder = CACHE_DIR / key
    cached, meta_file = folder / "bench.db", folder / "meta.json"
    target = work / f"bench-{estates}x{days}.db"
    if use_cache and cached.exists() and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        if last is None or meta["last"] == last.isoformat():
            shutil.copyfile(cached, target)
            meta["cached"] = True
            return target, meta
    last = last or (datetime.now(TZ).date() - timedelta(days=1))
    print(f"generating {estates} estates x {days} days (ending {last}) ...", flush=True)
    meta = build_database(target, estates, days, last)
    if use_cache:
        folder.mkdir(parents=True, exist_ok=True)
        for old in CACHE_DIR.glob("*"):  # one cached database per size is enough
            if old != folder and (old / "meta.json").exists() and \
                    json.loads((old / "meta.json").read_text()).get("estates") == estates and \
                    json.loads((old / "meta.json").read_text()).get("days") == days:
                shutil.rmtree(old, ignore_errors=True)
        # Atomically, so a run started meanwhile never copies half a database.
        partial = folder / f".bench.db.{os.getpid()}"
        shutil.copyfile(target, partial)
        os.replace(partial, cached)
        partial_meta = folder / f".meta.json.{os.getpid()}"
        partial_meta.write_text(json.dumps(meta))
        os.replace(partial_meta, meta_file)
    meta["cached"] = False
    return target, meta


# --- PostgreSQL: the same history, loaded with COPY into a template database kept between runs ---

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HISTORY_TABLES = (("round", ROUND_COLUMNS), ("repair_ticket", TICKET_COLUMNS), ("finding", FINDING_COLUMNS),
                  ("ticket_event", EVENT_COLUMNS), ("photo", PHOTO_COLUMNS),
                  ("finding_comment", "id, finding_id, by_id, at, text"))


def pg_url(admin_url: str, database: str) -> str:
    """The admin URL with another database name (SQLAlchemy's driver named: psycopg 3)."""
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(drivername="postgresql+psycopg", database=database) \
        .render_as_string(hide_password=False)


def pg_connect(url: str, autocommit: bool = True):  # noqa: ANN201
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                           dbname=u.database, autocommit=autocommit)


def pg_template_name(estates: int, days: int) -> str:
    return f"xuncha_desk_g{GENERATOR_VERSION}_{estates}x{days}"


def pg_exists(admin, name: str) -> bool:  # noqa: ANN001
    return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def insert_history_pg(url: str, worlds: list[EstateWorld], first: date, last: date) -> dict:
    """Every estate's history with COPY, in one transaction: the secondary indexes dropped first and
    built afterwards, foreign keys not checked row by row (the generator keeps them), the id
    sequences moved past the ids given, then ANALYZE."""
    conn = pg_connect(url, autocommit=False)
    totals: dict[str, int] = defaultdict(int)
    with conn:
        conn.execute("SET TIME ZONE 'UTC'")  # the generator writes UTC instants without an offset
        conn.execute("SET session_replication_role = replica")  # no FK triggers while loading
        conn.execute("SET maintenance_work_mem = '512MB'")
        items, versions = checklist_items(conn)
        tables = [t for t, _ in HISTORY_TABLES]
        indexes = conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)", (tables,)).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        counters = Counters()
        for world in worlds:
            rows = Rows()
            EstateHistory(world, items, versions, first, last, counters, rows).run()
            for (table, columns), data in zip(HISTORY_TABLES, (rows.rounds, rows.tickets, rows.findings, rows.events,
                                                                rows.photos, rows.comments)):
                if not data:
                    continue
                with conn.cursor().copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                    for row in data:
                        copy.write_row(row)
                totals[table] += len(data)
        with conn.cursor().copy("COPY ticket_counter (day, last) FROM STDIN") as copy:
            for d, n in sorted(counters.numbers.items()):
                copy.write_row((d.isoformat(), n))
        for _, sql in indexes:
            conn.execute(sql)
        for table in tables:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                         f"(SELECT coalesce(max(id), 0) + 1 FROM \"{table}\"), false)")
    conn.close()
    conn = pg_connect(url)
    conn.execute("VACUUM ANALYZE")
    conn.close()
    return dict(totals)


def upgrade_database(database: Path | str) -> None:
    """The schema to the migrations' head (a cached database built before a migration gets it)."""
    from flask_migrate import upgrade

    from app.extensions import db

    root = Path(tempfile.mkdtemp(prefix="xuncha-bench-upgrade-"))
    try:
        app = app_for(database, root)
        with app.app_context():
            upgrade()
            db.engine.dispose()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def cached_pg_database(estates: int, days: int, use_cache: bool, run: str, admin_url: str = PG_ADMIN_URL,
                       last: date | None = None) -> tuple[str, dict]:
    """A database for this size on PostgreSQL, `run` (its URL returned): a copy of the template
    database kept between runs (CREATE DATABASE ... TEMPLATE), which is built when missing (the
    migrations, the checklists and the world through the app, the history with COPY) and brought
    to the migrations' head when a migration came since (as a deployment would be)."""
    from app.extensions import db
    from app.rounds.checklists import sync_checklists

    name = pg_template_name(estates, days)
    meta_file = CACHE_DIR / "pg" / f"{name}.json"
    admin = pg_connect(admin_url)
    try:
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else None
        fresh = use_cache and meta is not None and pg_exists(admin, name) and (
            last is None or meta["last"] == last.isoformat())
        if not fresh:
            last = last or (datetime.now(TZ).date() - timedelta(days=1))
            print(f"generating {estates} estates x {days} days (ending {last}) into PostgreSQL ...", flush=True)
            building = f"{name}_building"
            admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{building}"')
            url = pg_url(admin_url, building)
            root = Path(tempfile.mkdtemp(prefix="xuncha-bench-pg-"))
            try:
                app = app_for(url, root)
                upgrade_database(url)
                with app.app_context():
                    sync_checklists(db.session)
                    db.session.commit()
                    db.session.remove()
                worlds, _ = create_world(app, estates)
                with app.app_context():
                    db.engine.dispose()
            finally:
                shutil.rmtree(root, ignore_errors=True)
            first = last - timedelta(days=days - 1)
            t = time.perf_counter()
            totals = insert_history_pg(url, worlds, first, last)
            totals["seconds"] = round(time.perf_counter() - t, 1)
            meta = {"estates": estates, "days": days, "first": first.isoformat(), "last": last.isoformat(),
                    "rows": totals}
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            meta_file.parent.mkdir(parents=True, exist_ok=True)
            meta_file.write_text(json.dumps(meta))
            meta["cached"] = False
        else:
            meta["cached"] = True
            upgrade_database(pg_url(admin_url, name))  # a new migration's indexes go into the template once
        admin.execute(f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)')
        # FILE_COPY (PostgreSQL 15+): the files copied at once, not written again through the WAL.
        strategy = " STRATEGY FILE_COPY" if admin.info.server_version >= 150000 else ""
        admin.execute(f'CREATE DATABASE "{run}" TEMPLATE "{name}"{strategy}')
    finally:
        admin.close()
    return pg_url(admin_url, run), meta


def drop_pg_database(url: str, admin_url: str = PG_ADMIN_URL) -> None:
    from sqlalchemy.engine import make_url

    admin = pg_connect(admin_url)
    try:
        admin.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        admin.close()


# --- timing through the app ---------------------------------------------------------------

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"|name="csrf_token" type="hidden" value="([^"]+)"')
SHOWN = re.compile(r'<li class="card (?:finding|ticket-card) ')  # a finding of the review, an overdue ticket
NEXT = re.compile(r'href="([^"]+)"[^>]*rel="next"|rel="next"[^>]*href="([^"]+)"')


@dataclass
class Case:
    kind: str  # list, deep, overdue, summary
    name: str
    user: str
    url: str


@dataclass
class Result:
    case: Case
    site: str = ""
    times: list[float] = field(default_factory=list)  # wall ms of each whole response
    cpu: list[float] = field(default_factory=list)  # this process's CPU ms of each (robust to other load)
    status: int | None = None
    shown: int | None = None  # findings (review pages) or tickets (overdue list) on the page
    missing: bool = False
    error: str = ""
    statements: list = field(default_factory=list)  # (ms, sql, params) of one request, slowest first

    @property
    def p50(self) -> float:
        return pct(self.times, 50)

    @property
    def p95(self) -> float:
        return pct(self.times, 95)

    @property
    def cpu50(self) -> float:
        return pct(self.cpu, 50)

    @property
    def timed(self) -> bool:
        return bool(self.times) and not self.error


class Browser:
    """Flask's test client signed in as one user, through the login form."""

    def __init__(self, app, username: str) -> None:  # noqa: ANN001
        self.client = app.test_client()
        page = self.client.get("/login").get_data(as_text=True)
        match = CSRF.search(page)
        if not match:
            raise SystemExit("no CSRF token on the login page")
        token = next(g for g in match.groups() if g)
        response = self.client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        if response.status_code != 302:
            raise SystemExit(f"sign-in of {username} failed: HTTP {response.status_code}")

    def get(self, url: str) -> tuple[int, str, float, float]:
        """Status, body, wall ms and CPU ms of one whole response (the body read)."""
        c, t = time.process_time(), time.perf_counter()
        response = self.client.get(url)
        body = response.get_data(as_text=True)
        return response.status_code, body, (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000


def next_link(body: str) -> str | None:
    m = NEXT.search(body)
    return html.unescape(next(g for g in m.groups() if g)) if m else None


def deep_url(browser: Browser, url: str, pages: int) -> tuple[str | None, int]:
    """The URL `pages` pages down from `url`, following 'next' links (or the last page reached)."""
    here, depth = url, 0
    for _ in range(pages):
        status, body, _, _ = browser.get(here)
        link = next_link(body) if status == 200 else None
        if link is None:
            break
        here, depth = link, depth + 1
    return (here if depth else None), depth


class StatementLog:
    """SQL statements of the requests while active (for the slowest cases' query plans)."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        import sqlalchemy as sa

        self.active, self.rows, self._t = False, [], {}
        sa.event.listen(engine, "before_cursor_execute", self.before)
        sa.event.listen(engine, "after_cursor_execute", self.after)

    def before(self, conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG002
        if self.active:
            self._t[id(cursor)] = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG002
        if self.active and id(cursor) in self._t:
            self.rows.append(((time.perf_counter() - self._t.pop(id(cursor))) * 1000, statement, parameters))


@dataclass
class Site:
    """The app on one database, with its signed-in browsers."""

    label: str
    database: Path | str  # a SQLite file, or a PostgreSQL URL
    root: Path
    app: object
    log: StatementLog
    browsers: dict

    @classmethod
    def open(cls, label: str, database: Path | str, work: Path) -> Site:
        from app.extensions import db

        root = Path(tempfile.mkdtemp(prefix="app-", dir=work))
        app = app_for(database, root)
        with app.app_context():
            log = StatementLog(db.engine)
        app.logger.handlers[:] = [ERRORS]  # a page that fails is reported once, with its error
        app.logger.propagate = False
        # Requests run with no app context of ours pushed: each gets its own, as in production.
        return cls(label, database, root, app, log, {u: Browser(app, u) for u in ("desk1", "deskr", "sup1")})

    def close(self) -> None:
        from app.extensions import db

        with self.app.app_context():
            db.engine.dispose()

    def statements(self, case: Case) -> list:
        self.log.rows, self.log.active = [], True
        self.browsers[case.user].get(case.url)
        self.log.active = False
        return sorted(self.log.rows, key=lambda r: -r[0])


def time_cases(sites: list[Site], cases: dict[str, Case], samples: int, warmup: int) -> dict[str, Result]:
    """Time one case on every site, the sites' requests interleaved so each sees the same machine."""
    results = {}
    for site in sites:
        case = cases[site.label]
        result = results[site.label] = Result(case, site.label)
        status, body, _, _ = site.browsers[case.user].get(case.url)
        result.status = status
        result.shown = len(SHOWN.findall(body))
        if status == 404:
            result.missing = True
        elif status != 200:
            result.error = f"HTTP {status}" + (f" ({ERRORS.last})" if status >= 500 and ERRORS.last else "")
        else:
            for _ in range(max(0, warmup - 1)):
                site.browsers[case.user].get(case.url)
    live = [s for s in sites if results[s.label].status == 200]
    for n in range(samples):
        for site in (live if n % 2 == 0 else live[::-1]):
            case, result = cases[site.label], results[site.label]
            if result.error:
                continue
            status, _, ms, cpu = site.browsers[case.user].get(case.url)
            if status != 200:
                result.error = f"HTTP {status}"
                continue
            result.times.append(ms)
            result.cpu.append(cpu)
    for site in live:
        results[site.label].statements = site.statements(cases[site.label])
    return results


class ErrorLog(logging.Handler):
    """The app's logged errors, kept short for the report instead of a traceback per request."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        self.last = f"{type(exc).__name__}: {exc}" if exc else record.getMessage()


ERRORS = ErrorLog()


class MachineLoad:
    """How busy the machine was meanwhile, and how much of that was this process (Linux /proc)."""

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        try:
            fields = [float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        ticks = os.sysconf("SC_CLK_TCK")
        return sum(fields) / ticks, (sum(fields) - idle) / ticks, time.process_time()

    def others_share(self) -> float | None:
        """Share of the machine's CPU time used by other processes since the start."""
        end = self._sample()
        if self.start is None or end is None:
            return None
        total, busy, own = (end[i] - self.start[i] for i in range(3))
        return max(0.0, (busy - own) / total) if total > 0 else None


def cases_for(meta: dict, worlds_ids: dict) -> list[Case]:
    """The timed URLs (the same in both databases: estate 1's ids)."""
    last = date.fromisoformat(meta["last"])
    month_end = last.replace(day=1) - timedelta(days=1)
    if last.month != (last + timedelta(days=1)).month:
        month_end = last  # the data ends with a whole month
    month = month_end.replace(day=1)
    e = worlds_ids
    week_from, week_to = (last - timedelta(days=6)).isoformat(), last.isoformat()
    month_from, month_to = month.isoformat(), month_end.isoformat()
    filters = [
        ("estate", "desk1", {"estate_id": e["estate"]}),
        ("all my estates", "deskr", {}),
        ("defects", "desk1", {"estate_id": e["estate"], "defects_only": 1}),
        ("unreviewed", "desk1", {"estate_id": e["estate"], "unreviewed_only": 1}),
        ("defects+unreviewed, all my estates", "deskr", {"defects_only": 1, "unreviewed_only": 1}),
        ("building+corridor", "desk1", {"estate_id": e["estate"], "building_id": e["building"], "kind": "corridor"}),
        ("month+defects", "desk1", {"estate_id": e["estate"], "date_from": month_from, "date_to": month_to,
                                    "defects_only": 1}),
        ("steward+decoration", "desk1", {"estate_id": e["estate"], "steward_id": e["steward"], "kind": "decoration"}),
        ("meter, last week", "desk1", {"estate_id": e["estate"], "kind": "meter", "date_from": week_from,
                                       "date_to": week_to}),
        ("facility defects, all my estates", "deskr", {"kind": "facility", "defects_only": 1}),
    ]
    cases = [Case("list", name, user, "/desk/findings" + (f"?{urlencode(args)}" if args else ""))
             for name, user, args in filters]
    cases.append(Case("overdue", "overdue tickets", "sup1", "/tickets/overdue"))
    cases.append(Case("summary", f"month {month:%Y-%m}", "sup1",
                      f"/reports/summary?{urlencode({'estate': e['estate'], 'period': 'month', 'start': month_from})}"))
    return cases


def scalar(database: Path | str, sql: str, **params) -> object:  # noqa: ANN003
    """One value from the database (SQLite or PostgreSQL), outside the app."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url(database))
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def estate_one_ids(database: Path | str) -> dict:
    estate = scalar(database, "SELECT id FROM estate WHERE code = 'E01'")
    building = scalar(database, "SELECT id FROM building WHERE estate_id = :e ORDER BY position LIMIT 1", e=estate)
    steward = scalar(database, "SELECT id FROM \"user\" WHERE username = 's1a'")
    return {"estate": estate, "building": building, "steward": steward}


def measure(sites: list[Site], meta: dict, samples: int, warmup: int, deep: int) -> dict[str, list[Result]]:
    """Time every case on every site (the same URLs: estate 1's ids and the data's dates are the
    same in both databases). Deep pages are found on each site by following 'next' links."""
    results: dict[str, list[Result]] = {s.label: [] for s in sites}
    for case in cases_for(meta, estate_one_ids(sites[0].database)):
        timed = time_cases(sites, {s.label: case for s in sites}, samples, warmup)
        for site in sites:
            results[site.label].append(timed[site.label])
            report_line(timed[site.label])
        if case.kind != "list":
            continue
        deep_cases = {}
        for site in sites:
            if not timed[site.label].timed:
                continue
            url, depth = deep_url(site.browsers[case.user], case.url, deep)
            if url:
                deep_cases[site.label] = Case("deep", f"{case.name} (page {depth + 1})", case.user, url)
        deep_sites = [s for s in sites if s.label in deep_cases]
        if deep_sites:
            timed = time_cases(deep_sites, deep_cases, samples, warmup)
            for site in deep_sites:
                results[site.label].append(timed[site.label])
                report_line(timed[site.label])
    return results


def similar(a: int, b: int) -> bool:
    """Pages that show about as much: the same number of rows, or within 20% (overdue lists)."""
    return a == b or min(a, b) >= 0.8 * max(a, b)


def report_line(r: Result) -> None:
    name = f"{r.case.kind:<8} {r.case.name}"
    if r.missing:
        print(f"  [{r.site:>3}] {name:<52} MISSING (404: {r.case.url})", flush=True)
    elif r.error:
        print(f"  [{r.site:>3}] {name:<52} ERROR {r.error} ({r.case.url})", flush=True)
    else:
        flag = "" if r.p95 <= TARGET_P95_MS else "  > target"
        slowest = r.statements[0][0] if r.statements else 0
        print(f"  [{r.site:>3}] {name:<52} p50 {r.p50:6.1f}  p95 {r.p95:6.1f} ms  cpu p50 {r.cpu50:6.1f} ms  "
              f"{len(r.statements):2d} queries, slowest {slowest:5.1f} ms{flag}", flush=True)


def explain(database: Path | str, results: list[Result], limit: int = 3) -> None:
    """The query plans of the slowest statements of the cases over target (if none, of the three
    cases whose slowest statement took longest): EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE,
    BUFFERS) on PostgreSQL."""
    timed = [r for r in results if r.timed and r.statements]
    chosen = [r for r in timed if r.p95 > TARGET_P95_MS] or sorted(timed, key=lambda r: -r.statements[0][0])[:3]
    if isinstance(database, str):
        explain_pg(database, chosen, limit)
        return
    conn = sqlite3.connect(database)
    for r in chosen:
        print(f"\n{r.case.kind} {r.case.name}: p95 {r.p95:.1f} ms, SQL {sum(x[0] for x in r.statements):.1f} ms "
              f"in {len(r.statements)} statements; the slowest of one request:")
        for ms, sql, params in r.statements[:limit]:
            print(f"  {ms:7.1f} ms  {' '.join(sql.split())[:400]}")
            try:
                for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params or ()):
                    print(f"             {row[-1]}")
            except sqlite3.Error as exc:
                print(f"             (no plan: {exc})")
    conn.close()


def explain_pg(url: str, chosen: list[Result], limit: int) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            for r in chosen:
                print(f"\n{r.case.kind} {r.case.name}: p95 {r.p95:.1f} ms, SQL {sum(x[0] for x in r.statements):.1f} ms "
                      f"in {len(r.statements)} statements; the slowest of one request:")
                for ms, sql, params in r.statements[:limit]:
                    print(f"  {ms:7.1f} ms  {' '.join(sql.split())[:400]}")
                    try:
                        for (line,) in conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params or {}):
                            print(f"             {line}")
                    except sa.exc.DBAPIError as exc:
                        conn.rollback()
                        print(f"             (no plan: {str(exc.orig).splitlines()[0]})")
                conn.rollback()
    finally:
        engine.dispose()


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estates", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--small", type=int, default=10_000,
                        help="findings in the small database (default 10000; at least 62 days of estates 1-3)")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--deep", type=int, default=20, help="pages down for the deep page (default 20)")
    parser.add_argument("--quick", action="store_true", help="10 estates x 120 days, 10 samples")
    parser.add_argument("--no-cache", action="store_true", help="generate afresh and do not cache")
    parser.add_argument("--explain", action="store_true", help="query plans of every case over target")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (and the run's PostgreSQL databases)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the backend (postgresql: BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/"
                             "postgres, a superuser's connection that may create databases)")
    args = parser.parse_args()
    if args.quick:
        args.estates, args.days, args.samples = min(args.estates, 10), min(args.days, 120), min(args.samples, 10)

    work = Path(tempfile.mkdtemp(prefix="xuncha-bench-desk-"))
    pg = args.db == "postgresql"
    run_dbs: list[str] = []

    def database(estates: int, days: int, last: date | None = None) -> tuple[Path | str, dict]:
        if not pg:
            return cached_database(estates, days, not args.no_cache, work, last=last)
        url, meta = cached_pg_database(estates, days, not args.no_cache, f"xuncha_desk_run_{os.getpid()}_{len(run_dbs)}",
                                       last=last)
        run_dbs.append(url)
        return url, meta

    try:
        t = time.perf_counter()
        big, big_meta = database(args.estates, args.days)
        big_counts = count_rows(big)
        print(f"large database: {args.estates} estates x {args.days} days to {big_meta['last']}, "
              f"{'from the cache' if big_meta['cached'] else f'generated in {time.perf_counter() - t:.0f} s'}: "
              f"{big_counts['finding']:,} findings, {big_counts['round']:,} rounds, {big_counts['repair_ticket']:,} "
              f"tickets, {big_counts['ticket_event']:,} ticket events, {big_counts['photo']:,} photos; "
              f"{size_mb(big):.0f} MB")
        per_estate_day = big_counts["finding"] / (args.estates * args.days)
        small_estates = min(SMALL_ESTATES, args.estates)
        small_days = max(62, round(args.small / (small_estates * per_estate_day)))  # the last whole month in it
        t = time.perf_counter()
        small, small_meta = database(small_estates, small_days, last=date.fromisoformat(big_meta["last"]))
        small_counts = count_rows(small)
        print(f"small database: estates 1-{small_estates} x {small_days} days, {small_counts['finding']:,} findings, "
              f"{small_counts['repair_ticket']:,} tickets ({time.perf_counter() - t:.0f} s)")
        print(f"timing: {args.samples} samples per case after {args.warmup} warm-up requests; "
              f"{os.cpu_count()} CPUs; "
              + (f"PostgreSQL {scalar(big, 'SHOW server_version')}" if pg else f"SQLite {sqlite3.sqlite_version}"))

        print("\nper case: wall-clock p50/p95 of the whole response, this process's CPU per response (p50), "
              "the SQL statements of one response; the two databases' requests interleaved")
        load = MachineLoad()
        n = big_counts["finding"]
        big_label = f"{n / 1e6:.0f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"
        sites = [Site.open(big_label, big, work), Site.open("10k", small, work)]
        try:
            results = measure(sites, big_meta, args.samples, args.warmup, args.deep)
        finally:
            for site in sites:
                site.close()
        others = load.others_share()
        large_results, small_results = results[big_label], results["10k"]

        def worst(kind: str) -> float | None:
            """The largest p95 of a kind; None unless every case of the kind could be timed."""
            of_kind = [r for r in large_results if r.case.kind == kind]
            if not of_kind or not all(r.timed for r in of_kind):
                return None
            return round(max(r.p95 for r in of_kind), 1)

        base = lambda r: (r.case.kind, r.case.name.split(" (page")[0])  # noqa: E731
        small_by = {base(r): r for r in small_results if r.timed}
        ratios, tail_ratios, cpu_ratios = [], [], []
        print("\ngrowth from the small database to the large one, where both pages show as much (the same page "
              "number, as many findings or tickets): p50 ratio (the figure), p95 ratio, CPU p50 ratio")
        for r in large_results:
            other = small_by.get(base(r))
            if not (r.timed and other):
                continue
            if r.case.name != other.case.name or not similar(r.shown or 0, other.shown or 0):
                page = f"page {other.case.name.split('(page ')[-1].rstrip(')')} " if "(page" in other.case.name else ""
                print(f"  {r.case.kind:<8} {r.case.name:<52} not comparable: {page}{other.shown} rows on the small "
                      f"database, {r.shown} here")
                continue
            ratio, tail, cpu_ratio = r.p50 / other.p50, r.p95 / other.p95, r.cpu50 / other.cpu50
            ratios.append(ratio)
            tail_ratios.append(tail)
            cpu_ratios.append(cpu_ratio)
            print(f"  {r.case.kind:<8} {r.case.name:<52} {ratio:5.2f}x   p95 {tail:5.2f}x   cpu {cpu_ratio:5.2f}x"
                  f"{'  > target' if ratio > TARGET_GROWTH else ''}")
        missing = sorted({r.case.url.split("?")[0] for r in large_results if r.missing})
        timed = [r for r in large_results + small_results if r.timed]
        errors = [f"[{r.site}] {r.case.name}: {r.error}" for r in large_results + small_results if r.error]
        figures = {
            "list_p95_ms": worst("list"),
            "deep_page_p95_ms": worst("deep"),
            "overdue_p95_ms": worst("overdue"),
            "summary_p95_ms": worst("summary"),
            "growth_ratio": round(max(ratios), 2) if ratios else None,
            # CPU of this process per response, median over every timed case: steadier than wall times
            # when other processes share the machine, so two trees can be compared run against run.
            "cpu_p50_ms_median": round(statistics.median(r.cpu50 for r in timed), 2) if timed else None,
            "others_cpu_share": None if others is None else round(others, 2),
            "reference_workload_ms": round(reference_workload_ms(), 1),
            "db": args.db,
            "large_db_findings": big_counts["finding"],
            "large_db_tickets": big_counts["repair_ticket"],
            "small_db_findings": small_counts["finding"],
        }
        if others is not None:
            print(f"\nother processes used {100 * others:.0f}% of the machine's CPU while timing "
                  f"({os.cpu_count()} CPUs; this benchmark needs one): figures taken while others are busy "
                  f"are not comparable")
        if cpu_ratios:
            print(f"largest growth of the p95: {max(tail_ratios):.2f}x; of the CPU per response (p50): "
                  f"{max(cpu_ratios):.2f}x")
        print(f"targets: p95 <= {TARGET_P95_MS:.0f} ms per case, growth <= {TARGET_GROWTH:.0f}x")
        for name in ("list_p95_ms", "deep_page_p95_ms", "overdue_p95_ms", "summary_p95_ms", "growth_ratio"):
            value = figures[name]
            target = TARGET_GROWTH if name == "growth_ratio" else TARGET_P95_MS
            print(f"  {name:<18} {'-' if value is None else value:>8}  "
                  f"{'not measured (a case is missing or failed)' if value is None else 'ok' if value <= target else 'MISSED'}")
        if missing:
            print(f"  pages missing (404): {', '.join(missing)}")
        for error in errors:
            print(f"  error: {error}")
        if args.explain or pg:  # on PostgreSQL always: the plan of the slowest statements
            explain(big, large_results, limit=3 if args.explain else 1)
        print(json.dumps(figures))
    finally:
        if args.keep:
            print(f"kept {work}" + (f" and {', '.join(run_dbs)}" if run_dbs else ""), file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
            for url in run_dbs:
                drop_pg_database(url)


def count_rows(database: Path | str) -> dict:
    return {t: scalar(database, f'SELECT count(*) FROM "{t}"')
            for t in ("finding", "round", "repair_ticket", "ticket_event", "photo")}


def size_mb(database: Path | str) -> float:
    if isinstance(database, Path):
        return database.stat().st_size / 1e6
    return scalar(database, "SELECT pg_database_size(current_database())") / 1e6


if __name__ == "__main__":
    main()
