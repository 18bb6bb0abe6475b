"""The demo history's repair tickets: what the desk, engineering and the stewards do with each ticket
at the simulated time, and the repairs owners report by phone or at the desk (a part of demo.history's
simulation, mixed into it)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from ..models import (
    DefectRoute,
    PublicAreaKind,
    RepairTicket,
    TicketChannel,
    Unit,
    Urgency,
    User,
)
from ..repairs import tickets, verification
from .story import (
    CANCEL_REASONS,
    OUTSIDE_PARTIES,
    TEAMS,
    VERIFY_FAILED,
    WORK_DONE,
    WORK_DONE_BY_ROUTE,
)


class _TicketStory:
    """Ticket processes of the simulation: uses the simulation's clock, people and random source."""

    def checker_for(self, ticket: RepairTicket) -> User:
        return self.steward_of_building.get(ticket.building_id, self.users["steward1"])

    def ticket_life(self, ticket: RepairTicket) -> Iterator[datetime]:
        """Desk dispatches, the team goes on site and repairs, the steward checks it on the next walk."""
        rng, desk, eng = self.rng, self.users["desk1"], self.users["eng1"]
        yield self.after(0.2, 2)
        if rng.random() < 0.05 and (ticket.place, ticket.item_code) not in self.slow:
            tickets.cancel(ticket, desk, reason=rng.choice(CANCEL_REASONS))
            ticket.closed_at = self.now
            self.stamp(ticket)
            return
        if ticket.item_code in ("COR-PIPE-LEAK", "VAC-LEAK", "MTR-VACANT-RUNNING"):
            tickets.change_urgency(self.s, ticket, desk, Urgency.URGENT, "漏水可能影響樓下,提為緊急")
        elif ticket.urgency is Urgency.NORMAL and rng.random() < 0.08:
            tickets.change_urgency(self.s, ticket, desk, Urgency.PLANNED, "不影響使用,排期處理")
        route = ticket.route
        team = OUTSIDE_PARTIES.get(ticket.item_code or "", "外協單位") if route is DefectRoute.OUTSIDE_PARTY else rng.choice(TEAMS[route])
        self.dispatch(ticket, team)
        self.stamp(ticket)
        fixer = eng if route is DefectRoute.ENGINEERING else desk  # the desk records what cleaners and outside parties report
        while True:
            if route is DefectRoute.CLEANING and (ticket.place, ticket.item_code) in self.slow:
                yield self.after(24 * 30, 24 * 40)  # the owner keeps promising to move it
            elif route is DefectRoute.CLEANING:
                yield self.after(0.5, 5)
            else:
                yield self.after(0.3, 3) if ticket.urgency is Urgency.URGENT else self.after(1, 20)
                tickets.start(ticket, fixer, now=self.now)
                self.stamp(ticket)
                if (ticket.place, ticket.item_code) in self.slow:
                    yield self.after(24 * 30, 24 * 40)  # waiting for a part
                elif route is DefectRoute.OUTSIDE_PARTY or rng.random() < 0.08:
                    yield self.after(24 * 3, 24 * 12)
                else:
                    yield self.after(1, 26)
            choices = WORK_DONE.get(ticket.item_code or "", [WORK_DONE_BY_ROUTE[route]])
            tickets.repair(ticket, fixer, work_done=rng.choice(choices), now=self.now)
            self.stamp(ticket)
            yield self.after(18, 80)  # the steward checks it on a later walk
            passed = rng.random() > 0.12
            self.check(ticket, passed, "" if passed else rng.choice(VERIFY_FAILED))
            if passed:
                return

    def dispatch(self, ticket: RepairTicket, to: str) -> None:
        """The desk sends it to a team of the estate ("工程部 王師傅": the team, then the person)."""
        name, _, person = to.partition(" ")
        team = next(t for t in self.teams if t.name == name)
        tickets.dispatch(ticket, self.users["desk1"], team=team, to=person, now=self.now)

    def check(self, ticket: RepairTicket, passed: bool, note: str = "") -> None:
        """The steward's check on site of a public repair, sent from the phone (app.verification)."""
        verification.record_verification(self.s, self.checker_for(ticket), uuid=self.uuid(), ticket_id=ticket.id,
                                         passed=passed, note=note, recorded_at=self.now, now=self.now)
        self.stamp(ticket)

    def intake(self, spec: dict) -> Iterator[datetime]:
        """A phone call or walk-in at the desk (app.repairs.tickets.register_report), and what happened since."""
        desk, eng = self.users["desk1"], self.users["eng1"]
        unit: Unit | None = spec.get("unit")
        contact = unit.contacts[0] if unit is not None and unit.contacts else None
        name, phone = (contact.name, contact.phone) if contact else spec["reporter"]
        report = tickets.Report(
            channel=spec["channel"], reporter_name=name, reporter_phone=phone, description=spec["description"],
            expectation=spec["expectation"], unit=unit, building=spec.get("building"),
            public_area=spec.get("public_area"), place_text=spec["place_text"],
            urgency=spec.get("urgency", Urgency.NORMAL))
        ticket = tickets.register_report(self.s, desk, self.estate, report, now=self.now)
        self.s.flush()
        self.stamp(ticket)
        created = self.now
        for hours, action, kwargs in spec.get("steps", []):
            yield created + timedelta(hours=hours)
            if action == "dispatch":
                self.dispatch(ticket, kwargs.get("to", "工程部 王師傅"))
            elif action == "urgency":
                tickets.change_urgency(self.s, ticket, desk, kwargs["urgency"], kwargs["note"])
            elif action == "start":
                tickets.start(ticket, eng, now=self.now)
            elif action == "repair":
                tickets.repair(ticket, eng, now=self.now, **kwargs)
            elif action == "visit":
                tickets.return_visit(ticket, desk, now=self.now, **kwargs)
            elif action == "verify":
                self.check(ticket, passed=kwargs.get("passed", True), note=kwargs.get("note", ""))
            elif action == "cancel":
                tickets.cancel(ticket, desk, reason=kwargs["reason"])
                ticket.closed_at = self.now
            self.stamp(ticket)

    def plan_intake(self) -> None:
        """Desk reports placed relative to today, so every ticket status shows whatever the weekday."""
        occ = self.occupied
        garage = next(a for a in self.estate.public_areas if a.kind is PublicAreaKind.GARAGE)
        playground = next(a for a in self.estate.public_areas if a.kind is PublicAreaKind.PLAYGROUND)
        in_b = {b.id: [u for u in occ if u.building_id == b.id] for b in (self.b1, self.b2, self.b3)}
        b1, b2, b3 = in_b[self.b1.id], in_b[self.b2.id], in_b[self.b3.id]
        phone, walk_in = TicketChannel.PHONE, TicketChannel.WALK_IN
        specs = [
            # (days before today, local time), the report, its steps (hours after the report)
            ((1, 19, 40), dict(channel=phone, unit=b1[0], description="廚房水龍頭關不緊,一直滴水", place_text="廚房",
                               expectation="明天上午九點後上門,來前先打電話")),
            ((1, 10, 15), dict(channel=walk_in, unit=b2[1], description="主臥插座沒電,其他房間正常", place_text="主臥",
                               expectation="下班後(18:30 後)在家", steps=[(0.4, "dispatch", {})])),
            ((5, 9, 20), dict(channel=phone, unit=b3[2], description="衛生間頂棚滲水,懷疑樓上防水", place_text="衛生間",
                              expectation="盡快查明原因,聯繫樓上業主", steps=[
                                  (0.3, "urgency", {"urgency": Urgency.URGENT, "note": "漏水影響樓下,提為緊急"}),
                                  (0.4, "dispatch", {}), (1.2, "start", {})])),
            ((2, 14, 0), dict(channel=walk_in, unit=b1[1], description="入戶門鎖芯卡滯,鑰匙難轉", place_text="入戶門",
                              expectation="今天內修好", steps=[
                                  (0.5, "dispatch", {}), (2.5, "start", {}),
                                  (3.5, "repair", {"work_done": "更換鎖芯", "parts": "C 級鎖芯 1 個",
                                                   "chargeable": True, "amount": "180"})])),
            ((6, 11, 0), dict(channel=phone, unit=b2[2], description="陽台地漏堵塞,下雨反水", place_text="陽台",
                              expectation="週末前處理", steps=[
                                  (0.5, "dispatch", {}), (2, "start", {}),
                                  (3, "repair", {"work_done": "疏通地漏,清出頭髮雜物"})])),
            ((13, 9, 30), dict(channel=phone, unit=b1[2], description="熱水器進水管接頭漏水", place_text="廚房",
                               expectation="上午在家", steps=[
                                   (0.3, "dispatch", {}), (1.5, "start", {}),
                                   (2.5, "repair", {"work_done": "更換進水軟管並緊固", "parts": "不鏽鋼軟管 1 條",
                                                    "chargeable": True, "amount": "45"}),
                                   (26, "visit", {"grade": "A", "comment": "師傅準時,修得好"})])),
            ((20, 16, 10), dict(channel=walk_in, unit=b3[0], description="客廳窗戶密封條脫落,下雨滲水", place_text="客廳窗",
                                expectation="下次下雨前修好", steps=[
                                    (0.3, "dispatch", {}), (18, "start", {}),
                                    (20, "repair", {"work_done": "重新安裝密封條"}),
                                    (44, "visit", {"grade": "C", "comment": "昨晚下雨還是滲水"}),
                                    (50, "start", {}),
                                    (54, "repair", {"work_done": "更換整條密封膠條並打膠"}),
                                    (80, "visit", {"grade": "B", "comment": "不滲了,但來了兩次"})])),
            ((9, 20, 30), dict(channel=phone, unit=b2[0], description="馬桶水箱一直流水", place_text="主衛",
                               expectation="明天來看", steps=[
                                   (13, "cancel", {"reason": "業主來電:已自行更換配件,無需上門"})])),
            ((1, 8, 50), dict(channel=walk_in, public_area=garage, description="地下車庫 B 區 3 盞燈不亮",
                              place_text="B 區 12–18 號車位上方", expectation="晚上停車太暗,盡快修",
                              reporter=("周先生", "13912345678"), steps=[
                                  (0.3, "dispatch", {}), (2, "start", {}),
                                  (5, "repair", {"work_done": "更換 3 支 LED 燈管"})])),
            ((2, 10, 30), dict(channel=phone, building=self.b3, description="可視對講按不通,開不了門",
                               place_text="1梯大堂門口", expectation="今天修好", reporter=("吳太太", "13698765432"),
                               steps=[(0.2, "dispatch", {}), (1, "start", {}),
                                      (6, "repair", {"work_done": "更換對講主機按鍵板"})])),
            ((15, 15, 0), dict(channel=walk_in, public_area=playground, urgency=Urgency.URGENT,
                               description="兒童游樂場鞦韆鏈條鬆動", place_text="鞦韆", expectation="先圍起來,別讓小孩玩",
                               reporter=("陳媽媽", "13811112222"), steps=[
                                   (0.2, "dispatch", {}), (0.5, "start", {}),
                                   (2, "repair", {"work_done": "更換連接扣並緊固鏈條"}),
                                   (20, "verify", {"passed": False, "note": "鞦韆仍有晃動,吊環磨損"}),
                                   (22, "start", {}),
                                   (25, "repair", {"work_done": "更換吊環及整條鏈條"}), (44, "verify", {})])),
        ]
        for (days_ago, hour, minute), spec in specs:
            self.spawn(self.local(self.today - timedelta(days=days_ago), hour, minute), self.intake(spec))
