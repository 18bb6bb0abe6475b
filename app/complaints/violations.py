"""Resident violations beyond decoration (住戶違章, manual 九): traced to the unit responsible, from
the desk (a report, or a round's finding opened at the desk) or from the steward's phone (a round's
finding marked on site). Both go through `trace_violation`, which hands the violation to
decoration's own steps (notice → call → deadline → re-check → escalate), not a copy of them.

A round's marks are read when the round is completed (`round_completed`, in its transaction): a
mark that cannot become a violation keeps its finding and says why, for the desk to record by hand."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..decoration import violations as decoration_violations
from ..models import Building, DefectRoute, Finding, FindingResult, Round, Unit, User, Violation
from ..refusals import Conflict, NotFound, Refusal
from ..repairs import queries as ticket_queries
from ..repairs.tickets import TicketError
from ..rounds.intake import round_completed

KINDS = decoration_violations.RESIDENT_KINDS
KIND = {
    "clutter": _l("Corridor clutter"),
    "illegal_structure": _l("Illegal structure"),
    "facade": _l("Façade changed after acceptance"),
    "group_renting": _l("Group renting"),
    "other": _l("Other violation"),
}
# Why a mark made on a round did not become a violation (kept on the finding for the desk).
PROBLEM = {
    "room": _l("No such room in this building."),
    "scope": _l("The unit is not on this steward's places."),
    "taken": _l("The finding is already a violation."),
    "invalid": _l("The mark is incomplete."),
}


def trace_violation(session: Session, user: User, *, building: Building | None, room: str, kind: str, summary: str,
                    finding: Finding | None = None, now: datetime | None = None) -> Violation:
    """The unit responsible, named by its building and room, gets a resident violation of `kind`."""
    unit = _unit(session, building, room)
    return decoration_violations.report_violation(session, user, unit=unit, kind=kind, summary=summary,
                                                  finding=finding, now=now)


def _unit(session: Session, building: Building | None, room: str) -> Unit:
    unit = ticket_queries.unit_by_room(session, building, room)
    if unit is None:
        message = _l("Give the unit responsible: its building and room.")
        raise TicketError(message, {"room": [message]})
    return unit


def _building_of_mark(session: Session, finding: Finding, room: str) -> Building | None:
    """The building of a marked room: the finding's; for a round of the whole estate, the one
    building of the estate that has this room (none or several: unknown)."""
    if finding.building is not None:
        return finding.building
    rows = session.scalars(sa.select(Building).join(Unit, Unit.building_id == Building.id).where(
        Building.estate_id == finding.round.estate_id, Unit.room_number == room.strip()).limit(2)).all()
    return rows[0] if len(rows) == 1 else None


def _summary(finding: Finding) -> str:
    item = finding.item
    reason = next((r["label"]["zh_Hant"] for r in item.reasons if r["code"] == finding.reason_code), "")
    return " · ".join(x for x in (item.label_zh_hant, reason, finding.reason_text, finding.note) if x)


def _problem(exc: Refusal) -> str:
    if isinstance(exc, TicketError):
        return "room"
    if isinstance(exc, NotFound):
        return "scope"
    if isinstance(exc, Conflict):
        return "taken"
    return "invalid"


@round_completed.connect
def _marked_on_the_round(session: Session, *, round: Round, findings: list[Finding], now: datetime) -> None:  # noqa: A002
    """Each defect the steward marked as a resident violation becomes one, traced to the room given;
    a mark that cannot says why on its finding, and the round is stored all the same."""
    for finding in findings:
        mark = finding.resident_violation
        if not mark or "problem" in mark or finding.result is not FindingResult.DEFECT:
            continue
        if finding.violation is not None or finding.item.route is DefectRoute.DECORATION_VIOLATION:
            finding.resident_violation = {**mark, "problem": "taken"}  # a decoration breach already
            continue
        try:
            trace_violation(session, round.steward, building=_building_of_mark(session, finding, mark.get("room", "")),
                            room=mark.get("room", ""), kind=mark.get("kind", ""), summary=_summary(finding),
                            finding=finding, now=round.completed_at or now)
        except Refusal as exc:
            finding.resident_violation = {**mark, "problem": _problem(exc)}
