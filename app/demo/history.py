"""Four weeks of demo history, simulated in time order through the real code paths: stewards walk
their rounds through the real sync code, photos go through the real pipeline, and the desk,
engineering and the stewards move the tickets with app.repairs.tickets at the simulated time."""
from __future__ import annotations

import hashlib
import heapq
import random
import uuid as uuidlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from .. import steps
from ..decoration import flood_tests, materials, violations
from ..models import (
    Asset,
    AssetKind,
    DefectRoute,
    Estate,
    Finding,
    FindingComment,
    FindingResult,
    ItemType,
    MeterKind,
    Photo,
    PhotoStatus,
    PublicAreaKind,
    RecheckResult,
    RepairTicket,
    Round,
    RoundKind,
    RoundStatus,
    UnitState,
    User,
    UTCDateTime,
    WetArea,
)
from ..photos import uploads
from ..repairs import tickets
from ..rounds import intake, schedule
from ..rounds.plan import build_plan, meter_flags
from .story import (
    BREACH_ITEM,
    BREACH_NOTE,
    BREACH_REASON,
    DAY_ORDER,
    DEFECT_RATE,
    DESK_COMMENTS,
    HISTORY_DAYS,
    HISTORY_SEED,
    ITEM_WEIGHT,
    MINUTES,
    NOTES,
    _photo_jpeg,
    _Planted,
)
from .ticket_story import _TicketStory


class _History(_TicketStory):
    def __init__(self, session: Session, estate: Estate, users: dict[str, User], today: date) -> None:
        self.s = session
        self.estate = estate
        self.users = users
        self.teams = tickets.teams_of(session, estate.id)
        self.tz = ZoneInfo(estate.timezone)
        self.today = today
        self.first_day = today - timedelta(days=HISTORY_DAYS)
        self.end = self.local(today, 0)
        self.rng = random.Random(HISTORY_SEED)
        self.real_start = datetime.now(timezone.utc)
        self.now = self.end
        self.queue: list[tuple[datetime, int, Iterator[datetime]]] = []
        self.seq = 0
        self.known_tickets: set[int] = set()
        self.meter_values: dict[int, tuple[Decimal, Decimal]] = {}
        self.photo_jobs: list[tuple] = []
        self.reviews: list[dict] = []
        self.photo_limits = (current_app.config["PHOTO_MAX_BYTES"], current_app.config["PHOTO_MAX_PIXELS"])
        self.steward_of_building = {b.id: s for s in (users["steward1"], users["steward2"]) for b in s.buildings}
        b1, b2, b3 = estate.buildings
        self.b1, self.b2, self.b3 = b1, b2, b3
        units = sorted((u for b in estate.buildings for u in b.units), key=lambda u: u.id)
        vacant = [u for u in units if u.state is UnitState.VACANT]
        occupied = [u for u in units if u.state is UnitState.OCCUPIED and u.contacts]
        decorating = [u for u in units if u.state is UnitState.DECORATING]
        self.occupied = occupied
        # The decoration flow on steward 1's decorating units: a breach found two days ago and
        # noticed for today's re-check, a flood test that may pass now, materials waiting at the gate.
        mine = [u for u in decorating if self.steward_of_building.get(u.building_id) is users["steward1"]] or decorating
        self.breach_unit = mine[0] if mine else None
        self.flood_unit = mine[1 % len(mine)] if mine else None
        self.material_unit = mine[2 % len(mine)] if mine else None
        self.breach_day = today - timedelta(days=2)
        # Meter anomalies in the latest reading: water running in an empty unit; a digit misread.
        self.vacant_running = next((m.id for m in vacant[0].meters if m.kind is MeterKind.WATER), None) if vacant else None
        self.misread = next(m.id for m in occupied[3].meters if m.kind is MeterKind.ELECTRICITY)
        garage = next(a for a in estate.public_areas if a.kind is PublicAreaKind.GARAGE)
        elevator = session.scalars(sa.select(Asset).where(Asset.estate_id == estate.id, Asset.kind == AssetKind.ELEVATOR)
                                   .order_by(Asset.id)).first()
        e_b1, e_b2 = b1.entrances[1], b2.entrances[0]
        self.planted: dict[tuple, _Planted] = {
            ((e_b1.id, 7, None, None, None, None), "COR-LIGHT"): _Planted(0.7, "FLICKERING", "7 樓燈又在閃"),
            ((e_b2.id, 3, None, None, None, None), "COR-CLUTTER"): _Planted(0.8, "BIKES", "同一輛電動車"),
            ((None, None, garage.id, None, None, None), "FAC-GARAGE-DRAINAGE"): _Planted(0.8, "PONDING", "B 區坡道底"),
            ((None, None, None, elevator.id, None, None), "FAC-ELEVATOR-RUN"): _Planted(1.0, "NOISE", "運行時有異響"),
        }
        if decorating:
            self.planted[((None, None, None, None, decorating[0].id, None), "DEC-COMMON-DEBRIS")] = _Planted(
                0.12, "WASTE", "裝修垃圾堆在樓梯間")
        # Waiting on others, so open for weeks and seen again on every walk: the lift company's part,
        # the owner of the e-bike parked in the stairwell.
        self.slow = {(place, code) for (place, code) in self.planted if code in ("FAC-ELEVATOR-RUN", "COR-CLUTTER")}

    # time

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.tz).astimezone(timezone.utc)

    def working(self, at: datetime) -> datetime:
        """The first office moment (08:30–18:00 local) at or after `at`."""
        lt = at.astimezone(self.tz)
        if lt.hour >= 18:
            return self.local(lt.date() + timedelta(days=1), 8, 30 + self.rng.randint(0, 25))
        if (lt.hour, lt.minute) < (8, 30):
            return self.local(lt.date(), 8, 30 + self.rng.randint(0, 25))
        return at

    def after(self, lo_hours: float, hi_hours: float) -> datetime:
        return self.working(self.now + timedelta(hours=self.rng.uniform(lo_hours, hi_hours)))

    def uuid(self) -> str:
        return str(uuidlib.UUID(int=self.rng.getrandbits(128), version=4))

    def spawn(self, at: datetime, process: Iterator[datetime]) -> None:
        if at < self.end:
            self.seq += 1
            heapq.heappush(self.queue, (at, self.seq, process))

    def run(self) -> None:
        while self.queue:
            at, _, process = heapq.heappop(self.queue)
            self.now = at
            following = next(process, None)
            if following is not None:
                self.spawn(max(following, at), process)

    def stamp(self, ticket: RepairTicket) -> None:
        """Events are logged at the real clock by default: put them at the simulated time."""
        for event in ticket.events:
            if event.at is None or event.at >= self.real_start:
                event.at = self.now

    # rounds

    def plan_rounds(self) -> None:
        rng = random.Random(HISTORY_SEED + 1)  # the calendar: its own stream, apart from what is found
        by_day: dict[tuple[date, int], list] = {}
        for steward in (self.users["steward1"], self.users["steward2"]):
            for target in schedule.targets_for(self.s, steward, self.estate):
                for day in self._days_for(target, rng):
                    by_day.setdefault((day, steward.id), []).append((steward, target))
        for (day, _), walks in sorted(by_day.items(), key=lambda kv: kv[0]):
            walks.sort(key=lambda w: (DAY_ORDER.index(w[1].kind), w[1].building.position if w[1].building else 0,
                                      w[1].unit.room_number if w[1].unit else ""))
            at = self.local(day, 9, rng.randint(0, 25))
            for steward, target in walks:
                minutes = rng.randint(*MINUTES[target.kind])
                self.spawn(at, self.walk(steward, target, at, at + timedelta(minutes=minutes)))
                at += timedelta(minutes=minutes + rng.randint(5, 20))
                if self.local(day, 12) <= at < self.local(day, 13, 30):
                    at = self.local(day, 13, 30 + rng.randint(0, 15))  # lunch

    def _days_for(self, target: schedule.Target, rng: random.Random) -> list[date]:
        """The local days this target was walked: on time, a few late, a few missed (building 2's
        corridors the week before last, building 3's three weeks ago, a decoration check now and then;
        the breach unit is checked every day from its breach on, so the day before today has rounds)."""
        kind = target.kind
        rule = schedule.DEFAULT_RULES[kind]
        days: list[date] = []
        if kind is RoundKind.DECORATION:
            day = self.first_day
            breach = target.unit is self.breach_unit
            while day < self.today:
                if rng.random() > 0.07 or (breach and day >= self.breach_day):
                    days.append(day)
                day += timedelta(days=1)
            return days
        if kind in (RoundKind.CORRIDOR, RoundKind.FACILITY):
            missed = {self.b2.id: self.today - timedelta(days=7), self.b3.id: self.today - timedelta(days=21)}
            occ = schedule.occurrence_on(rule, self.first_day)
            while occ.start < self.today:
                if kind is RoundKind.CORRIDOR:
                    day = occ.start + timedelta(days=rng.choices([0, 1, 2], [0.72, 0.22, 0.06])[0])
                else:
                    day = occ.start + timedelta(days=rng.choices([0, 1], [0.85, 0.15])[0])
                skipped = kind is RoundKind.CORRIDOR and occ.contains(missed.get(target.building.id, date.min))
                if not skipped and self.first_day <= day < self.today:
                    days.append(day)
                occ = schedule.occurrence_on(rule, occ.end)
            return days
        # Monthly: the last two months, so every meter has a reading before its latest one; this
        # month's on a day before today (from the 3rd on), else the two months before.
        occ = schedule.occurrence_on(rule, self.today)
        for _ in range(3):
            latest = min(6 if kind is RoundKind.METER else 14, (self.today - occ.start).days - 1)
            if latest >= 1 and len(days) < 2:
                days.append(occ.start + timedelta(days=rng.randint(1, latest)))
            occ = schedule.occurrence_on(rule, occ.start - timedelta(days=1))
        return sorted(days)

    def walk(self, steward: User, target: schedule.Target, start: datetime, done: datetime) -> Iterator[datetime]:
        yield done  # walked on the phone; stored when completed
        rnd = intake.start_round(
            self.s, steward, uuid=self.uuid(), kind=target.kind, estate_id=self.estate.id,
            building_id=target.building.id if target.building and not target.unit else None,
            unit_id=target.unit.id if target.unit else None, started_at=start, now=done)
        plan = build_plan(self.s, rnd)
        answers, photos, misread = self.answers(rnd, plan, start, done)
        defects = self.complete(rnd, plan, answers, done)
        self.photo_jobs += [(steward, *photo, done) for photo in photos]
        # The desk reads them from the next morning on: the last day's rounds are still waiting.
        self.spawn(max(self.after(1, 30), self.local(rnd.local_date + timedelta(days=1), 8, 30)),
                   self.review(rnd, defects))
        if misread is not None:  # the desk spots the misread reading and corrects it from the meter photo
            when = self.after(4, 24)
            self.spawn(when if when < self.end else self.now + timedelta(minutes=40), self.correct_reading(*misread))

    def complete(self, rnd: Round, plan, answers: list[intake.FindingInput], done: datetime) -> list[Finding]:  # noqa: ANN001
        """Store a completion as intake.complete_round does (findings with their place and meter flags,
        photos named, a ticket opened or seen again per defect), the findings in one bulk insert."""
        items = {i.code: i for i in plan.items}
        points = {p.key: p for p in plan.checkpoints}
        rows = []
        for f in answers:
            point = points[f.checkpoint]
            defect = f.result is FindingResult.DEFECT
            rows.append(dict(
                uuid=f.uuid, round_id=rnd.id, checklist_item_id=items[f.item_code].id, result=f.result,
                entrance_id=point.entrance_id, floor=point.floor, public_area_id=point.public_area_id,
                asset_id=point.asset_id, unit_id=point.unit_id, meter_id=point.meter_id,
                reason_code=f.reason_code if defect else None, reason_text=f.reason_text if defect else "",
                action_code=f.action_code, note=f.note, reading_value=f.reading_value,
                flags=meter_flags(point.meter, f.reading_value) if point.meter and f.reading_value is not None else [],
                recorded_at=f.recorded_at, received_at=done,
            ))
        self.s.execute(sa.insert(Finding), rows)
        rnd.status = RoundStatus.COMPLETED
        rnd.completed_at = done
        rnd.completion_sha256 = steps.content_sha256({"findings": [
            (a.uuid, a.checkpoint, a.item_code, a.result.value, a.reason_code, a.action_code, a.note, a.reading_value,
             a.recorded_at, a.photo_uuids) for a in answers]})
        named = {f.uuid: f.photo_uuids for f in answers if f.result is FindingResult.DEFECT}
        if not named:
            return []
        defects = list(self.s.scalars(sa.select(Finding).where(Finding.uuid.in_(list(named))).order_by(Finding.id)))
        for finding in defects:
            for photo_uuid in named[finding.uuid]:
                self.s.add(Photo(uuid=photo_uuid, finding_uuid=finding.uuid, finding=finding, status=PhotoStatus.PENDING))
            ticket = tickets.ticket_for_defect(self.s, finding, done)
            if ticket is None:
                continue
            self.s.flush()
            self.stamp(ticket)
            if ticket.id not in self.known_tickets:
                self.known_tickets.add(ticket.id)
                self.spawn(self.now, self.ticket_life(ticket))
        if rnd.kind is RoundKind.DECORATION:  # as intake.complete_round: breaches become a violation
            violation = violations.after_completion(self.s, rnd, defects, now=done)
            if violation is not None:
                self.spawn(self.after(1, 3), self.notice(rnd, violation))
        return defects

    def answers(self, rnd: Round, plan, start: datetime, done: datetime):  # noqa: ANN001, ANN201
        rng = self.rng
        answers: list[intake.FindingInput] = []
        photos: list[tuple[str, str, str]] = []
        misread = None
        total = sum(len(plan.items_at[p.key]) for p in plan.checkpoints) or 1
        n = 0
        for point in plan.checkpoints:
            for item in plan.items_at[point.key]:
                at = start + (done - start) * n / total
                n += 1
                uuid = self.uuid()
                if item.item_type is ItemType.READING:
                    value, right = self.reading(point)
                    if right is not None:
                        misread = (uuid, right)
                    answers.append(intake.FindingInput(uuid, point.key, item.code, FindingResult.FINE,
                                                       reading_value=value, recorded_at=at))
                    continue
                planted = self.planted.get((point.place, item.code))
                running = (item.code == "MTR-VACANT-RUNNING" and point.meter_id == self.vacant_running
                           and point.meter is not None and point.meter.previous is not None)
                if running:
                    planted = _Planted(1.0, "LEAK-SUSPECTED", "空置房水錶在走")
                if (rnd.unit is not None and rnd.unit is self.breach_unit and rnd.local_date == self.breach_day
                    and item.code == BREACH_ITEM):
                    planted = _Planted(1.0, BREACH_REASON, BREACH_NOTE)
                if rnd.kind is RoundKind.METER and not item.required and item.code != "MTR-BOX" and not running:
                    continue  # asked only when something looks wrong
                reason = None
                if planted is not None and rng.random() < planted.chance:
                    reason, note = planted.reason, planted.note
                elif (item.reasons and item.route is not DefectRoute.DECORATION_VIOLATION
                      and rng.random() < DEFECT_RATE[rnd.kind] * ITEM_WEIGHT.get(item.code, 0.7)):
                    # Breaches of decoration rules are the planted one only: each is a violation to follow up.
                    reason, note = rng.choice(item.reasons)["code"], rng.choice(NOTES)
                if reason is None:
                    answers.append(intake.FindingInput(uuid, point.key, item.code, FindingResult.FINE, recorded_at=at))
                    continue
                action = item.actions[0]["code"] if item.actions and rng.random() < 0.8 else None
                if running:
                    action = "VALVE-CLOSED-NOTICE"
                photo_uuids: tuple[str, ...] = ()
                if item.photo_required:
                    photo_uuids = (self.uuid(),)
                    place = point.label.encode("ascii", "ignore").decode().strip()
                    photos.append((photo_uuids[0], uuid, f"{at.astimezone(self.tz):%Y-%m-%d %H:%M}  {item.code} {place}"))
                answers.append(intake.FindingInput(uuid, point.key, item.code, FindingResult.DEFECT, reason_code=reason,
                                                   action_code=action, note=note, recorded_at=at, photo_uuids=photo_uuids))
        return answers, photos, misread

    def reading(self, point) -> tuple[Decimal, Decimal | None]:  # noqa: ANN001
        """This month's reading of a meter (and the right value, when the steward misread it)."""
        rng, meter = self.rng, point.meter
        last, use = self.meter_values.get(point.meter_id, (None, None))
        if last is None:
            water = meter.kind == "water"
            public = meter.unit_label is None
            last = Decimal(rng.randint(80, 900) if water else rng.randint(1500, 20000)) * (20 if public else 1)
            use = Decimal(rng.randint(4, 16) if water else rng.randint(90, 420)) * (25 if public else 1)
            if meter.unit_vacant:
                use = Decimal(0)
            if meter.previous is not None:
                last = meter.previous[1]
            value = last
        else:
            value = last + (use * Decimal(str(round(rng.uniform(0.75, 1.3), 2)))).quantize(Decimal("1"))
        if point.meter_id == self.vacant_running and meter.previous is not None:
            value = last + Decimal("2.30")
        self.meter_values[point.meter_id] = (value, use)
        if point.meter_id == self.misread and meter.previous is not None:
            wrong = Decimal(str(int(value))[:-1] or "0")  # the last digit left out
            if wrong < meter.previous[1]:
                return wrong, value
        return value, None

    def review(self, rnd: Round, defects: list[Finding]) -> Iterator[datetime]:
        """The desk reads what was synced and marks it reviewed; a remark here and there."""
        desk = self.users["desk1"]
        self.reviews.append({"round": rnd.id, "at": self.now, "by": desk.id})
        for finding in defects:
            if self.rng.random() < 0.3:
                self.s.add(FindingComment(finding_id=finding.id, by_id=desk.id, at=self.now,
                                          text=self.rng.choice(DESK_COMMENTS)))
        return
        yield  # a process of one step

    def notice(self, rnd: Round, violation) -> Iterator[datetime]:  # noqa: ANN001
        """The desk issues the rectification notice and phones the owner; the steward re-checks at
        the deadline. The planted breach's deadline is today: its re-check is on today's list."""
        desk = self.users["desk1"]
        planted = rnd.unit is self.breach_unit and rnd.local_date == self.breach_day
        day = schedule.local_date(self.estate, self.now)
        deadline = self.today if planted else max(rnd.local_date + timedelta(days=1), day)
        violations.issue_notice(self.s, desk, violation, deadline=deadline, now=self.now,
                                requirements="拆除擅自改動部分，按登記範圍恢復原狀；整改完畢後通知管家複查。" if planted
                                else "即日清走公共區域的裝修垃圾，袋裝後運至指定堆放點。")
        yield self.after(0.5, 2)
        violations.log_owner_call(self.s, desk, violation, "已電話通知業主，業主承諾按期整改", now=self.now)
        yield self.local(deadline, 10, self.rng.randint(0, 50))  # dropped when it falls today or later
        violations.record_recheck(self.s, rnd.steward, uuid=self.uuid(), violation_id=violation.id,
                                  result=RecheckResult.RECTIFIED, note="已清理完畢", recorded_at=self.now, now=self.now)

    def decoration_tasks(self) -> None:
        """Today's decoration work for steward 1: a flood test started three days ago in the
        afternoon, over 48 hours before today began (so it may pass now; the unit below and next
        door already checked), and materials the gate asked to let in yesterday evening."""
        steward, gate = self.users["steward1"], self.users["gate"]
        max_bytes, max_pixels = self.photo_limits
        if self.flood_unit is not None:
            unit, start = self.flood_unit, self.local(self.today - timedelta(days=3), 16, 0)  # 56 h before midnight
            test_uuid = self.uuid()
            photo = uploads.store_form_photo(
                self.s, steward, test_uuid, _photo_jpeg(90001, f"FLOOD TEST {unit.room_number}", start.astimezone(self.tz).replace(tzinfo=None)),
                max_bytes=max_bytes, max_pixels=max_pixels, timezone_name=self.estate.timezone, now=start)
            photo.uuid = self.uuid()  # the phone's UUID, deterministic here
            self.s.flush()
            flood_tests.start_flood_test(self.s, steward, uuid=test_uuid, unit_id=unit.id, wet_area=WetArea.BATHROOM,
                                         photo_uuid=photo.uuid, water_level_cm=Decimal("3.0"), recorded_at=start,
                                         now=start)
            below = next((u.room_number for u in unit.building.units
                          if u.entrance_id == unit.entrance_id and u.floor == unit.floor - 1), "樓下")
            flood_tests.check_neighbours(self.s, steward, uuid=self.uuid(), flood_test_uuid=test_uuid,
                                         units=f"{below}（樓下）及同層相鄰單元", leak=False, note="天花及牆面乾燥，無滲水",
                                         recorded_at=start + timedelta(hours=24), now=start + timedelta(hours=24))
        if self.material_unit is not None:
            at = self.local(self.today - timedelta(days=1), 17, 40)
            request_uuid = self.uuid()
            photo = uploads.store_form_photo(
                self.s, gate, request_uuid, _photo_jpeg(90002, f"MATERIALS {self.material_unit.room_number}",
                                                        at.astimezone(self.tz).replace(tzinfo=None)),
                max_bytes=max_bytes, max_pixels=max_pixels, timezone_name=self.estate.timezone, now=at)
            photo.uuid = self.uuid()
            self.s.flush()
            materials.raise_material_request(self.s, gate, uuid=request_uuid, unit_id=self.material_unit.id,
                                             materials="瓷磚 30 箱、水泥 20 包、防水塗料 4 桶", photo_uuid=photo.uuid,
                                             now=at)

    def store_photos(self) -> None:
        """The phones send their photos after each completion: through the real pipeline (the
        checks, the Pillow processing, storage and the row), the decoding two at a time."""
        max_bytes, max_pixels = self.photo_limits

        def shot(job: tuple) -> bytes:
            _, _, _, stamp, at, seed = job
            return _photo_jpeg(seed, stamp, at.astimezone(self.tz).replace(tzinfo=None))

        jobs = [(*job, seed) for seed, job in enumerate(self.photo_jobs, start=1)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            shots = list(pool.map(shot, jobs))
            checked = [uploads.check_photo(self.s, steward, photo_uuid, finding_uuid, data, hashlib.sha256(data).hexdigest())
                       for (steward, photo_uuid, finding_uuid, *_), data in zip(jobs, shots, strict=True)]
            processed = list(pool.map(lambda pair: uploads.process_upload(pair[0], pair[1], max_bytes=max_bytes,
                                                                          max_pixels=max_pixels), zip(checked, shots)))
        for (steward, *_, at, _), upload, data, result in zip(jobs, checked, shots, processed, strict=True):
            uploads.record_photo(self.s, steward, upload, result, len(data), now=at + timedelta(minutes=2))

    def finish(self) -> None:
        self.store_photos()
        if self.reviews:
            table = Finding.__table__
            self.s.execute(
                table.update().where(table.c.round_id == sa.bindparam("round"))
                .values(reviewed_at=sa.bindparam("at", type_=UTCDateTime), reviewed_by_id=sa.bindparam("by")),
                self.reviews)

    def correct_reading(self, finding_uuid: str, right: Decimal) -> Iterator[datetime]:
        amendment = intake.amend_finding(self.s, self.users["desk1"], finding_uuid, uuid=str(uuidlib.uuid4()), result=FindingResult.FINE,
                                         why="抄錄時漏了一位數,按表計照片更正", reading_value=right)
        amendment.amended_at = self.now
        return
        yield

    # tickets

def load_history(session: Session, estate: Estate, users: dict[str, User], *, today: date | None = None) -> None:
    """Four weeks of rounds, findings, photos and tickets in the demo estate, ending before `today`
    (the estate's local date; default: now). Needs an app context (photo storage). Deterministic
    for a given `today`."""
    today = today or schedule.local_date(estate, datetime.now(timezone.utc))
    history = _History(session, estate, users, today)
    history.plan_rounds()
    history.plan_intake()
    history.run()
    history.decoration_tasks()
    history.finish()
    session.flush()


def history_counts(session: Session) -> str:
    """One line for the command line: what the history holds."""
    def count(model, *where) -> int:  # noqa: ANN001
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0

    return (f"{count(Round):,} rounds, {count(Finding):,} findings "
            f"({count(Finding, Finding.result == FindingResult.DEFECT)} defects), "
            f"{count(Photo, Photo.status == PhotoStatus.STORED)} photos, {count(RepairTicket)} repair tickets.")
