"""The audit log read as sentences in the reader's language: "黃美玲 changed repair ticket WX-… ·
status: repaired → closed; closed: — → 12月7日 16:18". Field names become their labels, values
their labels (an enum's, a person's name, Yes/No), moments the estate's local time; nothing reads
"None" or a raw ISO timestamp. What an entry stored is left as it is: this only reads it.

Technical columns (ids of rows, hashes, storage keys, UUIDs) say nothing to a reader and are left
out of the lines; they stay in the entry (the filter by ID or number still finds them).
"""
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import labels
from ..i18n import format_at, format_day

ROUND_STATUS = {"in_progress": _l("In progress"), "completed": _l("Completed")}
PHOTO_STATUS = {"pending": _l("Waiting for the photo"), "stored": _l("Stored")}
LANGUAGE = {"zh_Hant": "繁體中文", "zh_Hans": "简体中文", "en": "English"}


def _by_value(mapping: dict) -> dict[str, Any]:
    return {getattr(k, "value", k): v for k, v in mapping.items()}


# Which labels a field's values take: per (table, field) first, then per field.
VALUE_LABELS: dict[tuple[str, str] | str, dict] = {
    ("round", "status"): ROUND_STATUS,
    ("photo", "status"): PHOTO_STATUS,
    ("repair_ticket", "status"): _by_value(labels.TICKET_STATUS),
    ("decoration_permit", "status"): _by_value(labels.PERMIT_STATUS),
    ("violation", "status"): _by_value(labels.VIOLATION_STATUS),
    ("flood_test", "status"): _by_value(labels.FLOOD_TEST_STATUS),
    ("material_request", "status"): _by_value(labels.MATERIAL_STATUS),
    ("round", "kind"): _by_value(labels.ROUND_KIND),
    ("schedule_rule", "kind"): _by_value(labels.ROUND_KIND),
    ("team", "kind"): _by_value(labels.TEAM_KIND),
    ("violation_recheck", "result"): _by_value(labels.RECHECK_RESULT),
    "result": _by_value(labels.FINDING_RESULT),
    "route": _by_value(labels.ROUTE),
    "urgency": _by_value(labels.URGENCY),
    "channel": _by_value(labels.TICKET_CHANNEL),
    "state": _by_value(labels.UNIT_STATE),
    "prior_state": _by_value(labels.UNIT_STATE),
    "vacancy_reason": _by_value(labels.VACANCY_REASON),
    "prior_vacancy_reason": _by_value(labels.VACANCY_REASON),
    "role": _by_value(labels.ROLE),
    "relation": _by_value(labels.CONTACT_RELATION),
    "wet_area": _by_value(labels.WET_AREA),
    "visit_outcome": _by_value(labels.VISIT_OUTCOME),
    "language": LANGUAGE,
}

FIELD_LABELS: dict[str, Any] = {
    "status": _l("Status"), "kind": _l("Kind"), "result": _l("Result"), "route": _l("Goes to"),
    "urgency": _l("Urgency"), "channel": _l("How it was reported"), "description": _l("What needs repairing"),
    "number": _l("Number"), "name": _l("Name"), "display_name": _l("Name"), "username": _l("Sign-in name"),
    "phone": _l("Phone"), "note": _l("Note"), "text": _l("Comment"), "why": _l("Why"), "reason": _l("Reason"),
    "reason_code": _l("Reason"), "reason_text": _l("Reason in words"), "action_code": _l("What was done on the spot"),
    "reading_value": _l("Reading"), "floor": _l("Floor"), "local_date": _l("Date"), "steward_id": _l("Steward"),
    "started_at": _l("Started"), "completed_at": _l("Completed"), "visit_outcome": _l("Visit outcome"),
    "recorded_at": _l("Recorded"), "received_at": _l("Received"), "reviewed_at": _l("Reviewed"),
    "reviewed_by_id": _l("Reviewed by"), "amended_by_id": _l("Corrected by"), "amended_at": _l("Corrected"),
    "by_id": _l("By"), "at": _l("When"), "uploaded_by_id": _l("Uploaded by"), "captured_at": _l("Taken"),
    "width": _l("Width (px)"), "height": _l("Height (px)"), "byte_size": _l("Size (bytes)"),
    "is_unit_repair": _l("Repair inside a unit"), "recurrences": _l("Seen again"), "created_at": _l("Opened"),
    "due_at": _l("Done by"), "visit_due_at": _l("Return visit by"), "closed_at": _l("Closed"),
    "created_by_id": _l("Opened by"), "reporter_name": _l("Reporter"), "reporter_phone": _l("Reporter's phone"),
    "place_text": _l("Place in words"), "expectation": _l("Reporter expects"), "dispatched_to": _l("Dispatched to"),
    "dispatched_at": _l("Dispatched"), "on_site_due_at": _l("On site by"), "on_site_at": _l("On site"),
    "repaired_at": _l("Repaired"), "passed": _l("Passed"), "applied": _l("Applied"),
    "on_site_minutes": _l("On site within (minutes)"), "done_minutes": _l("Done within (minutes)"),
    "active": _l("Active"), "owner_name": _l("Owner"), "owner_phone": _l("Owner's phone"),
    "contractor_name": _l("Contractor"), "contractor_phone": _l("Contractor's phone"), "workers": _l("Workers"),
    "worker_names": _l("Workers' names"), "planned_start": _l("Planned start"), "planned_end": _l("Planned end"),
    "scope": _l("Scope of work"), "working_hours": _l("Working hours"), "quiet_rest_days": _l("Quiet on rest days"),
    "deposit": _l("Deposit"), "prior_state": _l("State before"), "prior_vacancy_reason": _l("Vacancy reason before"),
    "registered_by_id": _l("Registered by"), "registered_at": _l("Registered"), "work_stopped_at": _l("Work stopped"),
    "work_stopped_reason": _l("Why work stopped"), "finished_reported_at": _l("Reported finished"),
    "accepted_at": _l("Accepted"), "accepted_by_id": _l("Accepted by"), "acceptance_note": _l("Acceptance note"),
    "serious": _l("Serious"), "summary": _l("What was found"), "found_by_id": _l("Found by"), "found_at": _l("Found"),
    "notice_number": _l("Notice number"), "notice_requirements": _l("Required on the notice"),
    "notice_issued_at": _l("Notice issued"), "deadline": _l("Deadline"), "owner_called_at": _l("Owner called"),
    "escalated_at": _l("Escalated"), "water_level_cm": _l("Water level (cm)"), "started_by_id": _l("Started by"),
    "phone_started_at": _l("Started on the phone"), "neighbour_checked_at": _l("Neighbours checked"),
    "neighbour_checked_by_id": _l("Neighbours checked by"), "neighbour_units": _l("Neighbouring units"),
    "neighbour_leak": _l("Leak next door"), "neighbour_note": _l("Note on the neighbours"), "ended_at": _l("Ended"),
    "ended_by_id": _l("Ended by"), "result_note": _l("Note on the result"), "materials": _l("Materials"),
    "raised_by_id": _l("Asked by"), "raised_at": _l("Asked"), "decided_by_id": _l("Decided by"),
    "decided_at": _l("Decided"), "resolved_by_id": _l("Resolved by"), "resolved_at": _l("Resolved"),
    "resolution_note": _l("How it was resolved"), "period": _l("Every"), "anchor": _l("Starting"),
    "window_days": _l("Days to do it"), "effective_from": _l("From"), "code": _l("Code"), "address": _l("Address"),
    "timezone": _l("Time zone"), "return_visit_hours": _l("Return visit within (hours)"),
    "decoration_hours": _l("Decoration working hours"),
    "decoration_quiet_rest_days": _l("Quiet decoration on rest days"), "retired_at": _l("Retired"),
    "room_number": _l("Room"), "area_m2": _l("Area (m²)"), "layout": _l("Layout"), "state": _l("State"),
    "vacancy_reason": _l("Vacancy reason"), "relation": _l("Relation"), "id_number": _l("ID number"),
    "cover_id": _l("Covering colleague"), "covered_id": _l("Colleague on leave"), "first_day": _l("First day"),
    "last_day": _l("Last day"), "ended_by_id": _l("Ended by"), "role": _l("Role"), "language": _l("Language"),
    "password_hash": _l("Password"), "must_change_password": _l("Must change the password"),
    "estates": _l("Estates"), "buildings": _l("Buildings"), "flags": _l("Flags"),
}
# Fields naming a person: shown by name.
PEOPLE_FIELDS = {f for f in FIELD_LABELS if f.endswith("_by_id")} | {"steward_id", "by_id", "cover_id", "covered_id"}
DATE_FIELDS = {"local_date", "planned_start", "planned_end", "deadline", "first_day", "last_day", "effective_from"}


@dataclasses.dataclass(frozen=True)
class Line:
    field: str
    before: str | None  # None: the field had no "before" (a record created)
    after: str | None  # None: the record was deleted


@dataclasses.dataclass(frozen=True)
class Sentence:
    headline: str
    lines: list[Line]


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def value_text(table: str, field: str, value: Any, timezone_name: str, people: dict[int, str]) -> str:
    """One value as a reader reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field in PEOPLE_FIELDS and isinstance(value, int):
        return people.get(value, f"#{value}")
    names = VALUE_LABELS.get((table, field)) or VALUE_LABELS.get(field)
    if names is not None and str(value) in names:
        return str(names[str(value)])
    moment = _moment(value)
    if moment is not None and moment.tzinfo is not None:
        return format_at(moment, timezone_name)
    if field in DATE_FIELDS:
        try:
            return format_day(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def people_named(entries) -> set[int]:  # noqa: ANN001
    """The ids of the people the entries' values name (to be read in one query)."""
    ids = set()
    for entry in entries:
        for side in (entry.before or {}, entry.after or {}):
            ids |= {v for k, v in side.items() if k in PEOPLE_FIELDS and isinstance(v, int)}
    return ids


HEADLINES = {
    "created": _l("%(who)s created %(what)s %(key)s"),
    "updated": _l("%(who)s changed %(what)s %(key)s"),
    "deleted": _l("%(who)s deleted %(what)s %(key)s"),
    "completed": _l("%(who)s completed %(what)s %(key)s"),
    "revealed": _l("%(who)s showed the ID number of %(what)s %(key)s"),
}


def describe(entry, who: str, what: str, timezone_name: str, people: dict[int, str]) -> Sentence:  # noqa: ANN001
    """An entry as a sentence and one line per field a reader can make sense of."""
    key = entry.entity_key or ""
    headline = str(HEADLINES.get(entry.action, HEADLINES["updated"]) % {"who": who, "what": what, "key": key})
    before, after = entry.before or {}, entry.after or {}
    lines = []
    for field in dict.fromkeys([*before.keys(), *after.keys()]):
        if field == "session_version":  # a counter: what it means is that every device was signed out
            lines.append(Line(_("Signed out on every device"), None, _("Yes")))
            continue
        label = FIELD_LABELS.get(field)
        if label is None:  # ids of rows, hashes, storage keys: nothing a reader can use
            continue
        old = value_text(entry.entity, field, before.get(field), timezone_name, people) if field in before else None
        new = value_text(entry.entity, field, after.get(field), timezone_name, people) if field in after else None
        if entry.action == "created" and (new in (None, "—") or old is not None):
            continue  # a new record: what it holds, not its empty fields
        if old is not None and new is not None and old == new:
            continue
        if field == "password_hash":
            old, new = None, _("changed")
        lines.append(Line(str(label), old, new))
    return Sentence(headline.strip(), lines)
