"""Who may use which route: the role × route matrix, estate scope and confidential contacts."""
from __future__ import annotations


import pytest

from app.models import Role, UnitState

from tests import factories

ANON = "anonymous"
ALL = set(Role)
ARCHIVE = ALL - {Role.GATE}  # the gate never reads the owner archive
PUBLIC = ALL | {ANON}
OFFICE = {Role.DESK, Role.SUPERVISOR}
# Allowed on the route, but the object shown is not theirs: 404, as for another estate's.
# A notice is its person's (estate_world's: the steward's gate request): everyone else's 404.
HIDDEN_OBJECT = {("photos.photo", Role.GATE), *(("notices.read", r) for r in Role if r is not Role.STEWARD)}

# The administrator works company-wide: on these routes an object of any estate is theirs to reach
# (tests/test_security_matrix.py expects no 404 for an administrator "of another estate").
COMPANY_WIDE = {"staff.user", "staff.reset_password", "staff.deactivate", "staff.reactivate", "staff.end_cover",
                "schedules.estate", "schedules.rule", "schedules.set_timezone", "checklists.choice",
                "places.edit", "places.retire", "places.reveal", "places.places", "places.index",
                "places.template", "places.import_workbook", "places.new", "teams.index", "teams.new", "teams.update"}

# endpoint: (method, path, who may use it). Every route of the app must be listed here:
# test_every_route_is_in_the_matrix fails when one is added without deciding who may use it.
MATRIX = {
    "static": ("GET", "/static/css/app.css", PUBLIC),
    "auth.index": ("GET", "/", PUBLIC),
    "pwa.healthz": ("GET", "/healthz", PUBLIC),
    "auth.set_language": ("POST", "/language", PUBLIC),
    "auth.login": ("GET", "/login", PUBLIC),
    "auth.logout": ("POST", "/logout", ALL),
    "auth.change_password": ("GET", "/password", ALL),
    "staff.index": ("GET", "/admin/staff/", {Role.ADMIN}),
    "staff.new": ("GET", "/admin/staff/new", {Role.ADMIN}),
    "staff.user": ("GET", "/admin/staff/{user_id}", {Role.ADMIN}),
    "staff.reset_password": ("POST", "/admin/staff/{user_id}/password", {Role.ADMIN}),
    "staff.deactivate": ("POST", "/admin/staff/{user_id}/deactivate", {Role.ADMIN}),
    "staff.reactivate": ("POST", "/admin/staff/{user_id}/reactivate", {Role.ADMIN}),
    "staff.covers_page": ("GET", "/admin/staff/covers", {Role.ADMIN}),
    "staff.end_cover": ("POST", "/admin/staff/covers/{cover_id}/end", {Role.ADMIN}),
    "schedules.index": ("GET", "/admin/schedules/", {Role.ADMIN, Role.SUPERVISOR}),
    "schedules.estate": ("GET", "/admin/schedules/{estate_id}", {Role.ADMIN, Role.SUPERVISOR}),
    "schedules.rule": ("GET", "/admin/schedules/{estate_id}/corridor", {Role.ADMIN, Role.SUPERVISOR}),
    "schedules.set_timezone": ("POST", "/admin/schedules/{estate_id}/timezone", {Role.ADMIN, Role.SUPERVISOR}),
    "checklists.index": ("GET", "/admin/checklists/", {Role.ADMIN}),
    "teams.index": ("GET", "/admin/teams/", {Role.ADMIN, Role.SUPERVISOR}),
    "teams.new": ("POST", "/admin/teams/{estate_id}/new", {Role.ADMIN, Role.SUPERVISOR}),
    "teams.update": ("POST", "/admin/teams/{team_id}", {Role.ADMIN, Role.SUPERVISOR}),
    "checklists.edit": ("GET", "/admin/checklists/corridor", {Role.ADMIN}),
    "checklists.choice": ("POST", "/admin/checklists/corridor/choice?estate={estate_id}", {Role.ADMIN}),
    "rounds.today": ("GET", "/rounds/today", {Role.STEWARD}),
    "places.index": ("GET", "/admin/places/", {Role.ADMIN}),
    "places.import_workbook": ("GET", "/admin/places/import", {Role.ADMIN}),
    "places.template": ("GET", "/admin/places/template.xlsx", {Role.ADMIN}),
    "places.places": ("GET", "/admin/places/units/", {Role.ADMIN}),
    "places.new": ("GET", "/admin/places/units/new", {Role.ADMIN}),
    "places.edit": ("GET", "/admin/places/units/{unit_id}", {Role.ADMIN}),
    "places.retire": ("POST", "/admin/places/units/{unit_id}/retire", {Role.ADMIN}),
    "places.reveal": ("POST", "/admin/places/contacts/{contact_id}/reveal", {Role.ADMIN}),
    "dashboard.index": ("GET", "/desk/", {Role.DESK, Role.SUPERVISOR}),
    "dashboard.supervisor": ("GET", "/desk/supervisor", {Role.SUPERVISOR}),
    "units.units": ("GET", "/desk/units?q=1", ARCHIVE),
    "units.unit": ("GET", "/desk/units/{unit_id}", ARCHIVE),
    "units.unit_history": ("GET", "/desk/units/{unit_id}/history", OFFICE | {Role.STEWARD}),
    "units.reveal_contact": ("POST", "/desk/contacts/{contact_id}/reveal", OFFICE),
    "audit.index": ("GET", "/audit", {Role.SUPERVISOR}),
    "engineering.index": ("GET", "/engineering/", {Role.ENGINEERING}),
    "engineering.meters": ("GET", "/engineering/meters", {Role.ENGINEERING}),
    "tickets.index": ("GET", "/tickets/", {Role.DESK, Role.SUPERVISOR, Role.ENGINEERING}),
    "tickets.overdue": ("GET", "/tickets/overdue", {Role.DESK, Role.SUPERVISOR}),
    "tickets.new": ("GET", "/tickets/new", {Role.DESK, Role.SUPERVISOR}),
    "tickets.detail": ("GET", "/tickets/{ticket_id}", {Role.DESK, Role.SUPERVISOR, Role.ENGINEERING}),
    "tickets.print_ticket": ("GET", "/tickets/{ticket_id}/print", {Role.DESK, Role.SUPERVISOR, Role.ENGINEERING}),
    "tickets.export": ("GET", "/tickets/export.csv", {Role.DESK, Role.SUPERVISOR}),
    "tickets.dispatch": ("POST", "/tickets/{ticket_id}/dispatch", {Role.DESK, Role.SUPERVISOR}),
    "tickets.start": ("POST", "/tickets/{ticket_id}/start", {Role.DESK, Role.SUPERVISOR, Role.ENGINEERING}),
    "tickets.repair": ("POST", "/tickets/{ticket_id}/repair", {Role.DESK, Role.SUPERVISOR, Role.ENGINEERING}),
    "tickets.verify": ("POST", "/tickets/{ticket_id}/verify", {Role.DESK, Role.SUPERVISOR}),
    "tickets.return_visit": ("POST", "/tickets/{ticket_id}/return-visit", {Role.DESK, Role.SUPERVISOR}),
    "tickets.cancel": ("POST", "/tickets/{ticket_id}/cancel", {Role.DESK, Role.SUPERVISOR}),
    "tickets.urgency": ("POST", "/tickets/{ticket_id}/urgency", {Role.DESK, Role.SUPERVISOR}),
    "tickets.route": ("POST", "/tickets/{ticket_id}/route", {Role.DESK, Role.SUPERVISOR}),
    "tickets.merge": ("POST", "/tickets/{ticket_id}/merge", {Role.DESK, Role.SUPERVISOR}),
    "tickets.split": ("POST", "/tickets/{ticket_id}/split", {Role.DESK, Role.SUPERVISOR}),
    "tickets.clocks": ("GET", "/tickets/clocks", {Role.SUPERVISOR}),
    "review.findings": ("GET", "/desk/findings", {Role.DESK, Role.SUPERVISOR}),
    "review.findings_csv": ("GET", "/desk/findings.csv?date_from=2026-11-01&date_to=2026-11-30",
                            {Role.DESK, Role.SUPERVISOR}),
    "review.review_finding": ("POST", "/desk/findings/{finding_uuid}/review", {Role.DESK, Role.SUPERVISOR}),
    "review.review_findings": ("POST", "/desk/findings/review", {Role.DESK, Role.SUPERVISOR}),
    "review.unreview_findings": ("POST", "/desk/findings/unreview", {Role.DESK, Role.SUPERVISOR}),
    "review.comment_finding": ("POST", "/desk/findings/{finding_uuid}/comments", {Role.DESK, Role.SUPERVISOR}),
    "review.finding_route": ("POST", "/desk/findings/{finding_uuid}/route", {Role.DESK, Role.SUPERVISOR}),
    "workfile.import_work": ("GET", "/desk/import", {Role.DESK, Role.SUPERVISOR}),
    "rounds.start": ("POST", "/rounds/start", {Role.STEWARD}),
    "rounds.walk": ("GET", "/rounds/walk?round={round_uuid}", {Role.STEWARD}),
    "rounds.summary": ("GET", "/rounds/{round_uuid}", {Role.STEWARD, Role.DESK, Role.SUPERVISOR}),
    "rounds.amend": ("POST", "/rounds/findings/{finding_uuid}/amend", {Role.STEWARD, Role.DESK, Role.SUPERVISOR}),
    "photos.photo": ("GET", "/photos/{photo_uuid}/thumb", ALL),  # engineering repairs what the photos show
    "api-docs.openapi_json": ("GET", "/api/openapi.json", PUBLIC),
    "api_rounds.Rounds": ("POST", "/api/v1/rounds", {Role.STEWARD}),
    "api_rounds.RoundPlan": ("GET", "/api/v1/rounds/{round_uuid}", {Role.STEWARD, Role.DESK, Role.SUPERVISOR}),
    "api_rounds.RoundCompletion": ("POST", "/api/v1/rounds/{round_uuid}/completion", {Role.STEWARD}),
    "api_rounds.FindingAmendments": ("POST", "/api/v1/findings/{finding_uuid}/amendments",
                                     {Role.STEWARD, Role.DESK, Role.SUPERVISOR}),
    "api_photos.PhotoUpload": ("PUT", "/api/v1/photos/{photo_uuid}", {Role.STEWARD}),
    "api_photos.PhotoPartUpload": ("PUT", "/api/v1/photos/{photo_uuid}/upload", {Role.STEWARD}),
    "api_session.CurrentSession": ("GET", "/api/v1/session", ALL),
    "api_session.OfflinePack": ("GET", "/api/v1/offline-pack", {Role.STEWARD}),
    "api_tickets.Verifications": ("POST", "/api/v1/verifications", {Role.STEWARD}),
    "pwa.service_worker": ("GET", "/sw.js", PUBLIC),
    "pwa.manifest": ("GET", "/manifest.webmanifest", PUBLIC),
    "pwa.offline": ("GET", "/offline", PUBLIC),
    "reports.summary": ("GET", "/reports/summary", {Role.DESK, Role.SUPERVISOR}),
    "gate.index": ("GET", "/gate/", {Role.GATE, Role.DESK, Role.SUPERVISOR}),
    "gate.requests": ("GET", "/gate/requests", OFFICE),
    "gate.settle": ("POST", "/gate/requests/{material_id}/settle", OFFICE),
    "gate.decide": ("POST", "/gate/requests/{material_id}/decide", {Role.STEWARD}),
    "decoration.index": ("GET", "/decoration/", OFFICE | {Role.STEWARD}),
    # The supervisor's duty (上報, the manual's split): the desk contacts owners, the supervisor takes what is escalated.
    "decoration.escalations": ("GET", "/decoration/escalations", {Role.SUPERVISOR}),
    "decoration.rules": ("GET", "/decoration/rules", {Role.SUPERVISOR}),
    "decoration.unit": ("GET", "/decoration/unit/{unit_id}", OFFICE | {Role.STEWARD}),
    "decoration.new": ("GET", "/decoration/new?unit_id={unit_id}", OFFICE),
    "decoration.permit": ("GET", "/decoration/{permit_id}", OFFICE | {Role.STEWARD}),
    "decoration.stop": ("POST", "/decoration/{permit_id}/stop", OFFICE),
    "decoration.resume": ("POST", "/decoration/{permit_id}/resume", OFFICE),
    "decoration.accept": ("POST", "/decoration/{permit_id}/accept", OFFICE),
    "decoration.cancel": ("POST", "/decoration/{permit_id}/cancel", OFFICE),
    "decoration.violation": ("GET", "/decoration/violations/{violation_id}", OFFICE | {Role.STEWARD}),
    "decoration.issue_notice": ("POST", "/decoration/violations/{violation_id}/notice", OFFICE | {Role.STEWARD}),
    "decoration.call": ("POST", "/decoration/violations/{violation_id}/call", OFFICE),
    "decoration.resolve": ("POST", "/decoration/violations/{violation_id}/resolve", {Role.SUPERVISOR}),
    "decoration.notice": ("GET", "/decoration/violations/{violation_id}/notice", OFFICE | {Role.STEWARD}),
    "api_decoration.FloodTests": ("POST", "/api/v1/flood-tests", {Role.STEWARD}),
    "api_decoration.FloodTestNeighbourCheck": ("POST", "/api/v1/flood-tests/{flood_test_uuid}/neighbour-check",
                                               {Role.STEWARD}),
    "api_decoration.FloodTestResult": ("POST", "/api/v1/flood-tests/{flood_test_uuid}/result", {Role.STEWARD}),
    "api_decoration.ViolationRechecks": ("POST", "/api/v1/violation-rechecks", {Role.STEWARD}),
    "api_decoration.MaterialRequests": ("GET", "/api/v1/material-requests", {Role.STEWARD}),
    "api_decoration.MaterialDecision": ("POST", "/api/v1/material-requests/{material_id}/decision", {Role.STEWARD}),
    "api_complaints.Investigations": ("POST", "/api/v1/investigations", {Role.STEWARD}),
    # Complaints and return visits (app/complaints), owners' reports by QR code (app/owners).
    "complaints.index": ("GET", "/complaints/", OFFICE),
    "complaints.late": ("GET", "/complaints/late", OFFICE),
    "complaints.new": ("GET", "/complaints/new", OFFICE),
    "complaints.detail": ("GET", "/complaints/{complaint_id}", OFFICE | {Role.STEWARD}),
    "complaints.reply": ("POST", "/complaints/{complaint_id}/reply", OFFICE),
    "complaints.close": ("POST", "/complaints/{complaint_id}/close", OFFICE),
    "complaints.investigate": ("GET", "/complaints/{complaint_id}/investigate", {Role.STEWARD}),
    "complaints.targets": ("GET", "/complaints/targets", {Role.SUPERVISOR}),
    "complaints.visits": ("GET", "/complaints/visits", OFFICE),
    "complaints.draw_visits": ("POST", "/complaints/visits/draw", OFFICE),
    "complaints.record_visit": ("POST", "/complaints/visits/{visit_id}", OFFICE),
    "complaints.visit_plan": ("GET", "/complaints/visits/plan", {Role.SUPERVISOR}),
    "complaints.summary": ("GET", "/complaints/summary", OFFICE),
    "complaints.new_violation": ("GET", "/complaints/violations/new?finding={finding_uuid}", OFFICE | {Role.STEWARD}),
    "owners.sheet": ("GET", "/owners/sheet", OFFICE),
    "owners.make_codes": ("POST", "/owners/codes", OFFICE),
    "owners.retire_code": ("POST", "/owners/codes/{code_id}/retire", OFFICE),
    "owners.intake": ("GET", "/owners/reports", OFFICE),
    "checkpoints.sheet": ("GET", "/checkpoints/sheet", OFFICE),
    "checkpoints.make_codes": ("POST", "/checkpoints/codes", OFFICE),
    "checkpoints.retire_code": ("POST", "/checkpoints/codes/{checkpoint_code_id}/retire", OFFICE),
    "checkpoints.set_rule": ("POST", "/checkpoints/rule", {Role.SUPERVISOR}),
    "owner.report": ("GET", "/o/{code_token}", PUBLIC),
    "owner.status": ("GET", "/o/s/{status_token}", PUBLIC),
    "owner.rate": ("POST", "/o/s/{status_token}/rating", PUBLIC),
    "owner.photo": ("GET", "/o/s/{status_token}/photos/{owner_photo_uuid}/thumb", PUBLIC),
    # Notices (app/notices): everyone's own list, settings and bell; the phone's push subscription.
    "notices.index": ("GET", "/notices/", ALL),
    "notices.read": ("POST", "/notices/{notice_id}/read", ALL),
    "notices.read_all": ("POST", "/notices/read-all", ALL),
    "notices.settings": ("GET", "/notices/settings", ALL),
    "api_notices.UnreadNotices": ("GET", "/api/v1/notices/unread", ALL),
    "api_notices.PushSubscriptions": ("POST", "/api/v1/push-subscriptions", ALL),
}


def test_every_route_is_in_the_matrix(app):
    assert {rule.endpoint for rule in app.url_map.iter_rules()} == set(MATRIX)


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
@pytest.mark.parametrize("who", [ANON, *Role], ids=lambda w: w if isinstance(w, str) else w.value)
def test_role_route_matrix(client, auth, estate_world, endpoint, who):
    _estate, unit, users, ids = estate_world
    method, path, allowed = MATRIX[endpoint]
    path = path.format(**ids)
    if who != ANON:
        assert auth.login(users[who].username).status_code == 302
    data = {"csrf_token": auth.csrf()} if method == "POST" else None
    with client.open(path, method=method, data=data) as response:
        check_answer(response, endpoint, who, allowed)


def check_answer(response, endpoint, who, allowed):
    if (endpoint, who) in HIDDEN_OBJECT:
        assert response.status_code == 404
    elif who in allowed:
        # Allowed in: the answer may still refuse the (empty) request body, but never the person.
        assert response.status_code not in (401, 403, 404, 500), response.status_code
        assert "/login" not in response.headers.get("Location", "") or endpoint in ("auth.logout", "auth.index")
    elif who == ANON and "/api/" in response.request.path:
        assert response.status_code == 401
    elif who == ANON:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    else:
        assert response.status_code == 403


def test_a_user_never_sees_a_unit_of_another_estate(client, auth, app):
    mine, theirs = factories.estate(), factories.estate()
    their_unit = factories.unit(factories.building(theirs), "9-901")
    my_unit = factories.unit(factories.building(mine), "1-101")
    desk = factories.user(Role.DESK, estates=[mine])
    auth.login(desk.username)
    assert client.get(f"/desk/units/{my_unit.id}").status_code == 200
    assert client.get(f"/desk/units/{their_unit.id}").status_code == 404
    assert "9-901" not in client.get("/desk/units?q=901").get_data(as_text=True)


def test_a_building_steward_sees_only_their_buildings(client, auth, app):
    estate = factories.estate()
    b1, b2 = factories.building(estate), factories.building(estate)
    u1, u2 = factories.unit(b1, "1-101"), factories.unit(b2, "2-101")
    steward = factories.user(Role.STEWARD, buildings=[b1])
    auth.login(steward.username)
    assert client.get(f"/desk/units/{u1.id}").status_code == 200
    assert client.get(f"/desk/units/{u2.id}").status_code == 404


@pytest.mark.parametrize(
    ("role", "sees_contacts"),
    [(Role.DESK, True), (Role.SUPERVISOR, True), (Role.STEWARD, False), (Role.ENGINEERING, False)],
)
def test_owner_phone_and_id_number_only_for_desk_and_supervisor(client, auth, estate_world, role, sees_contacts):
    _estate, unit, users, _ids = estate_world
    auth.login(users[role].username)
    html = client.get(f"/desk/units/{unit.id}").get_data(as_text=True)
    assert "陳大文" in html  # the name helps anyone on site
    assert ("13912345678" in html) is sees_contacts
    assert ("440****1234" in html.replace("*" * 11, "****")) is sees_contacts
    # The full ID number is never printed, not even for the desk.
    assert "440301199001011234" not in html


def test_a_disabled_users_session_stops_working(client, auth, app):
    estate = factories.estate()
    steward = factories.user(Role.STEWARD, estates=[estate])
    auth.login(steward.username)
    assert client.get("/rounds/today").status_code == 200
    steward.active = False
    response = client.get("/rounds/today")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_api_paths_answer_401_json_not_a_redirect(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["code"] == 404


def test_unit_state_badge_on_unit_page(client, auth, app):
    estate = factories.estate()
    unit = factories.unit(factories.building(estate), "1-201", state=UnitState.VACANT)
    auth.login(factories.user(Role.DESK, estates=[estate]).username)
    assert "state-vacant" in client.get(f"/desk/units/{unit.id}").get_data(as_text=True)
