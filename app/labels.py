"""Display names for the domain's enums, translated with Flask-Babel."""
from flask_babel import lazy_gettext as _l

from .i18n import current_language
from .models import (
    ContactRelation,
    DefectRoute,
    TicketChannel,
    Urgency,
    FindingResult,
    PublicAreaKind,
    Role,
    RoundKind,
    TicketStatus,
    UnitState,
    VacancyReason,
)

ROUND_KIND = {
    RoundKind.CORRIDOR: _l("Corridor round"),
    RoundKind.FACILITY: _l("Public-facility round"),
    RoundKind.VACANT_UNIT: _l("Vacant-unit check"),
    RoundKind.DECORATION: _l("Decoration daily check"),
    RoundKind.METER: _l("Meter reading"),
}

ROLE = {
    Role.STEWARD: _l("Building steward"),
    Role.DESK: _l("Desk staff"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.ENGINEERING: _l("Engineering"),
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
    TicketChannel.APP: _l("App"),
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


def choice_label(choices: list[dict], code: str | None) -> str:
    """The label of a checklist reason or action in the current language."""
    for choice in choices:
        if choice["code"] == code:
            return choice["label"].get(current_language()) or choice["label"]["zh_Hant"]
    return ""


def init_app(app) -> None:  # noqa: ANN001
    app.jinja_env.globals.update(
        ROUND_KIND=ROUND_KIND, ROLE=ROLE, UNIT_STATE=UNIT_STATE, VACANCY_REASON=VACANCY_REASON,
        PUBLIC_AREA_KIND=PUBLIC_AREA_KIND, CONTACT_RELATION=CONTACT_RELATION, FINDING_RESULT=FINDING_RESULT,
        METER_FLAG=METER_FLAG, TICKET_STATUS=TICKET_STATUS, ROUTE=ROUTE, URGENCY=URGENCY,
        TICKET_CHANNEL=TICKET_CHANNEL, GRADE=GRADE, TICKET_EVENT=TICKET_EVENT, choice_label=choice_label,
    )
