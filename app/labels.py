"""Display names for the domain's enums, translated with Flask-Babel."""
from flask_babel import lazy_gettext as _l

from .i18n import current_language
from .models import (
    AssetKind,
    MeterKind,
    ContactRelation,
    DefectRoute,
    FindingResult,
    FloodTestStatus,
    MaterialStatus,
    PermitStatus,
    PublicAreaKind,
    RecheckResult,
    Role,
    RoundKind,
    TeamKind,
    TicketChannel,
    TicketStatus,
    UnitState,
    Urgency,
    VacancyReason,
    ViolationStatus,
    VisitOutcome,
    WetArea,
)

ROUND_KIND = {
    RoundKind.CORRIDOR: _l("Corridor round"),
    RoundKind.FACILITY: _l("Public-facility round"),
    RoundKind.VACANT_UNIT: _l("Vacant-unit check"),
    RoundKind.DECORATION: _l("Decoration daily check"),
    RoundKind.METER: _l("Meter reading"),
}

ROLE = {
    Role.ADMIN: _l("System administrator"),
    Role.STEWARD: _l("Building steward"),
    Role.DESK: _l("Desk staff"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.ENGINEERING: _l("Engineering"),
    Role.GATE: _l("Security gate"),
}

UNIT_STATE = {
    UnitState.VACANT: _l("Vacant"),
    UnitState.OCCUPIED: _l("Occupied"),
    UnitState.RENTED: _l("Rented"),
    UnitState.DECORATING: _l("Decorating"),
}

VACANCY_REASON = {
    VacancyReason.UNSOLD: _l("Unsold"),
    VacancyReason.KEYS_NOT_COLLECTED: _l("Keys not collected"),
    VacancyReason.DEVELOPER_HELD: _l("Held by the developer"),
    VacancyReason.DISPUTE: _l("In dispute"),
    VacancyReason.SEIZED: _l("Seized"),
    VacancyReason.OTHER: _l("Other reason"),
}

CONTACT_RELATION = {
    ContactRelation.OWNER: _l("Owner"),
    ContactRelation.TENANT: _l("Tenant"),
    ContactRelation.RESIDENT: _l("Resident"),
}

PUBLIC_AREA_KIND = {
    PublicAreaKind.ROAD: _l("Roads"),
    PublicAreaKind.GREENERY: _l("Greenery"),
    PublicAreaKind.PLAYGROUND: _l("Playground"),
    PublicAreaKind.SHOPFRONT: _l("Shopfronts"),
    PublicAreaKind.GARAGE: _l("Garage"),
}


FINDING_RESULT = {
    FindingResult.FINE: _l("Fine"),
    FindingResult.DEFECT: _l("Defect"),
    FindingResult.NOT_APPLICABLE: _l("Not applicable"),
}

TICKET_STATUS = {
    TicketStatus.NEW: _l("New"),
    TicketStatus.DISPATCHED: _l("Dispatched"),
    TicketStatus.IN_PROGRESS: _l("Being repaired"),
    TicketStatus.REPAIRED: _l("Repaired, to be checked"),
    TicketStatus.CLOSED: _l("Closed"),
    TicketStatus.CANCELLED: _l("Cancelled"),
}

TEAM_KIND = {
    TeamKind.ENGINEERING: _l("Engineering"),
    TeamKind.CLEANING: _l("Cleaning"),
    TeamKind.GREENING: _l("Greening"),
    TeamKind.OUTSIDE_PARTY: _l("Outside party"),
}

ROUTE = {
    DefectRoute.ENGINEERING: _l("Engineering"),
    DefectRoute.CLEANING: _l("Cleaning"),
    DefectRoute.OUTSIDE_PARTY: _l("Outside party"),
    DefectRoute.DECORATION_VIOLATION: _l("Decoration violation"),
}

URGENCY = {
    Urgency.URGENT: _l("Urgent"),
    Urgency.NORMAL: _l("Normal"),
    Urgency.PLANNED: _l("Planned"),
}

TICKET_CHANNEL = {
    TicketChannel.ROUND: _l("Found on a round"),
    TicketChannel.PHONE: _l("Phone call"),
    TicketChannel.WALK_IN: _l("Walk-in"),
    TicketChannel.APP: _l("Owner report"),
}

TICKET_EVENT = {
    "opened": _l("Registered"),
    "seen_again": _l("Seen again on a round"),
    "dispatch": _l("Dispatched"),
    "start": _l("Work started"),
    "repair": _l("Repaired"),
    "verified": _l("Checked on site: passed"),
    "verification_failed": _l("Checked on site: not passed"),
    "late_verification": _l("Checked on site after the ticket had moved on"),
    "return_visit": _l("Return visit"),
    "cancel": _l("Cancelled"),
    "rerouted": _l("Route corrected"),
    "urgency_changed": _l("Urgency changed"),
    "merged_into": _l("Merged into another ticket"),
    "merged_from": _l("Another ticket merged in"),
    "split_from": _l("Split out of another ticket"),
    "split_out": _l("A defect split out"),
}

GRADE = {"A": _l("A · Satisfied"), "B": _l("B · Fairly satisfied"), "C": _l("C · Not satisfied")}

METER_FLAG = {
    "lower_than_last": _l("Lower than last reading"),
    "consumption_spike": _l("Far above usual"),
    "vacant_consumption": _l("Used while vacant"),
}

PERMIT_STATUS = {
    PermitStatus.ACTIVE: _l("Decorating"),
    PermitStatus.COMPLETED: _l("Accepted"),
    PermitStatus.CANCELLED: _l("Cancelled"),
}

VISIT_OUTCOME = {
    VisitOutcome.CHECKED: _l("Checked"),
    VisitOutcome.NOBODY: _l("Nobody on site"),
    VisitOutcome.REFUSED: _l("Entry refused"),
    VisitOutcome.FINISHED: _l("Work finished"),
}

VIOLATION_STATUS = {
    ViolationStatus.STOPPED: _l("Stopped, no notice yet"),
    ViolationStatus.NOTICED: _l("Notice issued"),
    ViolationStatus.RECTIFIED: _l("Rectified"),
    ViolationStatus.ESCALATED: _l("Escalated"),
    ViolationStatus.RESOLVED: _l("Settled by the supervisor"),
}

RECHECK_RESULT = {
    RecheckResult.RECTIFIED: _l("Rectified"),
    RecheckResult.NOT_RECTIFIED: _l("Not rectified"),
    RecheckResult.REFUSED: _l("Refuses to rectify"),
}

WET_AREA = {
    WetArea.BATHROOM: _l("Bathroom"),
    WetArea.KITCHEN: _l("Kitchen"),
    WetArea.BALCONY: _l("Balcony"),
}

FLOOD_TEST_STATUS = {
    FloodTestStatus.RUNNING: _l("Running"),
    FloodTestStatus.PASSED: _l("Passed"),
    FloodTestStatus.FAILED: _l("Failed"),
}

MATERIAL_STATUS = {
    MaterialStatus.PENDING: _l("Waiting for the steward"),
    MaterialStatus.APPROVED: _l("Approved"),
    MaterialStatus.REFUSED: _l("Refused: desk to contact the owner"),
    MaterialStatus.RESOLVED: _l("Settled with the owner"),
    MaterialStatus.ESCALATED: _l("Escalated"),
}

# The decoration process record (DecorationEvent.kind).
DECORATION_EVENT = {
    "registered": _l("Decoration registered"),
    "vacant_sheet_filed": _l("Vacant-unit inspection record filed"),
    "visit_nobody": _l("Daily check: nobody on site"),
    "visit_refused": _l("Daily check: entry refused"),
    "visit_finished": _l("Daily check: work finished"),
    "work_stopped": _l("Work stopped"),
    "work_resumed": _l("Work may go on"),
    "violation_found": _l("Violation stopped on the spot"),
    "notice_issued": _l("Rectification notice issued"),
    "owner_called": _l("Owner phoned"),
    "recheck_passed": _l("Re-check: rectified"),
    "recheck_not_rectified": _l("Re-check: not rectified"),
    "recheck_refused": _l("Re-check: refuses to rectify"),
    "violation_escalated": _l("Escalated to the supervisor"),
    "violation_resolved": _l("Settled by the supervisor"),
    "flood_started": _l("Flood test started"),
    "neighbour_checked": _l("Unit below and adjacent units checked"),
    "flood_passed": _l("Flood test passed"),
    "flood_failed": _l("Flood test failed"),
    "material_requested": _l("Gate asks to let materials in"),
    "material_approved": _l("Materials approved"),
    "material_refused": _l("Materials refused"),
    "material_resolved": _l("Materials settled with the owner"),
    "material_escalated": _l("Materials escalated"),
    "acceptance_failed": _l("Final acceptance: not passed"),
    "accepted": _l("Final acceptance passed"),
    "cancelled": _l("Registration cancelled"),
}


def choice_label(choices: list[dict], code: str | None) -> str:
    """The label of a checklist reason or action in the current language."""
    for choice in choices:
        if choice["code"] == code:
            return choice["label"].get(current_language()) or choice["label"]["zh_Hant"]
    return ""


ASSET_KIND = {AssetKind.ELEVATOR: _l("Elevator"), AssetKind.ENTRANCE_DOOR: _l("Entrance door and intercom")}
METER_KIND = {MeterKind.WATER: _l("Water"), MeterKind.ELECTRICITY: _l("Electricity")}


def label_of(member) -> str:  # noqa: ANN001
    """Any of the domain's enum values, by its display name where it has one."""
    for labels in (UNIT_STATE, VACANCY_REASON, PUBLIC_AREA_KIND, CONTACT_RELATION, ASSET_KIND, METER_KIND, ROLE):
        if member in labels:
            return labels[member]
    return str(getattr(member, "value", member))


def init_app(app) -> None:  # noqa: ANN001
    app.jinja_env.globals.update(
        ROUND_KIND=ROUND_KIND, ROLE=ROLE, UNIT_STATE=UNIT_STATE, VACANCY_REASON=VACANCY_REASON,
        PUBLIC_AREA_KIND=PUBLIC_AREA_KIND, CONTACT_RELATION=CONTACT_RELATION, FINDING_RESULT=FINDING_RESULT,
        METER_FLAG=METER_FLAG, TICKET_STATUS=TICKET_STATUS, ROUTE=ROUTE, TEAM_KIND=TEAM_KIND, URGENCY=URGENCY,
        TICKET_CHANNEL=TICKET_CHANNEL, GRADE=GRADE, TICKET_EVENT=TICKET_EVENT, choice_label=choice_label,
        PERMIT_STATUS=PERMIT_STATUS, VISIT_OUTCOME=VISIT_OUTCOME, VIOLATION_STATUS=VIOLATION_STATUS,
        RECHECK_RESULT=RECHECK_RESULT, WET_AREA=WET_AREA, FLOOD_TEST_STATUS=FLOOD_TEST_STATUS,
        MATERIAL_STATUS=MATERIAL_STATUS, DECORATION_EVENT=DECORATION_EVENT, label_of=label_of,
    )
