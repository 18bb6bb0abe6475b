"""The main tabs of each role, in the order they matter to that role.

A phone shows at most PHONE_TABS of them (the last slot is "More", a menu with the rest); the tab
of the page on screen is always among those shown. A wide screen shows them all, in this order.
The tabs name endpoints only: this module knows no domain.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

PHONE_TABS = 5  # visible on a phone, "More" included


@dataclass(frozen=True)
class TabSpec:
    endpoint: str
    label: object  # a lazy string
    also: tuple[str, ...] = ()  # other endpoints (or "prefix." for a whole blueprint) it stands for

    def matches(self, endpoint: str | None) -> bool:
        if not endpoint:
            return False
        return endpoint == self.endpoint or any(
            endpoint.startswith(a) if a.endswith(".") else endpoint == a for a in self.also)


@dataclass(frozen=True)
class Tab:
    url: str
    label: str
    active: bool


DESK = TabSpec("dashboard.index", _l("Desk"))
TICKETS = TabSpec("tickets.index", _l("Tickets"), ("tickets.detail", "tickets.new", "tickets.print_ticket",
                                                   "tickets.export", "tickets.clocks"))
FINDINGS = TabSpec("review.findings", _l("Findings"), ("review.findings_csv",))
IMPORT_WORK = TabSpec("workfile.import_work", _l("Import"))
LATE = TabSpec("tickets.overdue", _l("Late repairs"))
SUMMARIES = TabSpec("reports.summary", _l("Summaries"), ("reports.", "checkpoints."))
DECORATION = TabSpec("decoration.index", _l("Decoration"), ("decoration.",))
MATERIALS = TabSpec("gate.requests", _l("Materials"))
UNITS = TabSpec("units.units", _l("Units"), ("units.unit", "units.unit_history"))
SCHEDULES = TabSpec("schedules.index", _l("Schedules"), ("schedules.",))
TEAMS = TabSpec("teams.index", _l("Teams"), ("teams.",))
COMPLAINTS = TabSpec("complaints.index", _l("Complaints"), ("complaints.", "owners."))

TABS = {
    "admin": (
        TabSpec("places.index", _l("Estates"), ("places.places", "places.edit", "places.new")),
        TabSpec("staff.index", _l("Staff"), ("staff.",)),
        SCHEDULES,
        TabSpec("checklists.index", _l("Checklists"), ("checklists.",)),
        TabSpec("places.import_workbook", _l("Import")),
        TEAMS,
        UNITS,
    ),
    "steward": (TabSpec("rounds.today", _l("Today")), DECORATION, UNITS),
    "desk": (DESK, TICKETS, FINDINGS, COMPLAINTS, DECORATION, LATE, SUMMARIES, MATERIALS, IMPORT_WORK, UNITS),
    "supervisor": (
        TabSpec("dashboard.supervisor", _l("Overdue")), DESK, TICKETS, FINDINGS, COMPLAINTS, LATE, SUMMARIES, DECORATION,
        MATERIALS, IMPORT_WORK, TabSpec("audit.index", _l("Audit log"), ("audit.",)), SCHEDULES, TEAMS, UNITS,
    ),
    "engineering": (
        TabSpec("engineering.index", _l("Repairs"), ("tickets.detail",)),
        TabSpec("engineering.meters", _l("Meters")),
        UNITS,
    ),
    "gate": (TabSpec("gate.index", _l("Gate")),),
}


@dataclass(frozen=True)
class Navigation:
    tabs: list[Tab]  # every tab, in order (a wide screen)
    phone: list[Tab]  # the tabs a phone shows in the bar (the active one among them)
    more: list[Tab]  # the rest, in the "More" menu

    @property
    def more_active(self) -> bool:
        return any(t.active for t in self.more)


def navigation_for(role: str, endpoint: str | None, url=url_for) -> Navigation:  # noqa: ANN001
    """The tabs of `role` with the page at `endpoint` marked, split for a phone."""
    specs = [s for s in TABS.get(role, ()) if _known(s.endpoint)]
    # One tab per page: the first that claims the endpoint is the active one.
    active = next((i for i, s in enumerate(specs) if s.matches(endpoint)), None)
    tabs = [Tab(url(s.endpoint), str(s.label), i == active) for i, s in enumerate(specs)]
    if len(tabs) <= PHONE_TABS:
        return Navigation(tabs, tabs, [])
    shown = list(range(PHONE_TABS - 1))  # the last slot is "More"
    if active is not None and active not in shown:
        shown[-1] = active
    return Navigation(tabs, [tabs[i] for i in shown], [t for i, t in enumerate(tabs) if i not in shown])


def _known(endpoint: str) -> bool:
    from flask import current_app

    return endpoint in current_app.view_functions


def _navigation() -> Navigation | None:
    if not current_user.is_authenticated:
        return None
    return navigation_for(current_user.role.value, request.endpoint)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["navigation"] = _navigation
