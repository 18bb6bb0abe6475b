"""Issue 16, item 10: an estate's teams as data (engineering, cleaning, greening, outside parties,
with phone numbers); the desk dispatches to a team, not free text; the route "保潔" is the team
保潔部; the administrator and a supervisor of the whole estate keep the teams."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import DefectRoute, Language, RepairTicket, Role, Team, TeamKind, TicketStatus
from app.repairs import teams, tickets

from tests import factories
from tests.repairs.test_ticket_pages import post, report


@pytest.fixture
def world(app):
    w = factories.build_world(estate="翠湖花園", buildings={"building": "1棟"}, stairwells=True, everyone=True,
                              language=Language.EN)
    estate = w["estate"]
    for name, kind, phone in (("工程部", TeamKind.ENGINEERING, "0755-8632 1101"),
                              ("保潔部", TeamKind.CLEANING, "0755-8632 1102"),
                              ("綠化部", TeamKind.GREENING, ""),
                              ("奧的斯電梯維保", TeamKind.OUTSIDE_PARTY, "400-882-0031")):
        teams.add_team(db.session, estate, teams.TeamInput(name, kind.value, phone))
    db.session.commit()
    return w


def team(name: str) -> Team:
    return db.session.scalars(sa.select(Team).where(Team.name == name)).one()


def test_a_ticket_dispatched_to_a_team_goes_that_teams_way(world):
    ticket = report(world)
    desk = world["users"][Role.DESK]
    tickets.dispatch(ticket, desk, team=team("奧的斯電梯維保"), to="  張工 ")
    assert ticket.team.name == "奧的斯電梯維保" and ticket.dispatched_to == "奧的斯電梯維保 張工"
    assert ticket.route is DefectRoute.OUTSIDE_PARTY  # it leaves engineering's queue
    assert [e.kind for e in ticket.events][-2:] == ["dispatch", "rerouted"]
    tickets.dispatch(ticket, desk, team=team("工程部"))
    assert ticket.dispatched_to == "工程部" and ticket.route is DefectRoute.ENGINEERING


def test_only_the_estates_active_teams_take_tickets(world):
    ticket = report(world)
    desk = world["users"][Role.DESK]
    other = factories.estate("別人花園")
    elsewhere = teams.add_team(db.session, other, teams.TeamInput("工程部", "engineering"))
    with pytest.raises(tickets.TicketError):
        tickets.dispatch(ticket, desk, team=elsewhere)
    idle = team("綠化部")
    teams.update_team(db.session, idle, teams.TeamInput("綠化部", "greening", "", active=False))
    with pytest.raises(tickets.TicketError):
        tickets.dispatch(ticket, desk, team=idle)
    assert ticket.status is TicketStatus.NEW
    assert [t.name for t in tickets.teams_of(db.session, world["estate"].id)] == ["工程部", "保潔部", "奧的斯電梯維保"]


def test_the_route_cleaning_is_the_cleaning_team(world):
    listed = tickets.teams_of(db.session, world["estate"].id)
    assert tickets.team_for_route(listed, DefectRoute.CLEANING).name == "保潔部"
    assert tickets.team_for_route(listed, DefectRoute.ENGINEERING).name == "工程部"
    assert tickets.team_for_route(listed, DefectRoute.OUTSIDE_PARTY).name == "奧的斯電梯維保"


def test_the_desk_picks_a_team_on_the_ticket_page(client, auth, world):
    ticket = report(world, route=DefectRoute.CLEANING)
    auth.login("u-desk")
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    radios = re.findall(r'<input type="radio" name="team" value="(\d+)" required ?(checked)?', html)
    assert len(radios) == 4 and [v for v, c in radios if c] == [str(team("保潔部").id)]  # the route's team first
    assert "0755-8632 1102" in html and 'name="to"' not in html  # no free text beside the teams
    assert post(client, auth, f"/tickets/{ticket.id}/dispatch", {"team": "", "who": "劉阿姨"}).status_code == 409
    answer = post(client, auth, f"/tickets/{ticket.id}/dispatch", {"team": team("保潔部").id, "who": "劉阿姨"})
    assert answer.status_code == 302
    db.session.expire_all()
    ticket = db.session.get(RepairTicket, ticket.id)
    assert ticket.team.name == "保潔部" and ticket.dispatched_to == "保潔部 劉阿姨" and ticket.status is TicketStatus.DISPATCHED
    assert 'href="tel:0755-86321102"' in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)


def test_administrator_adds_and_changes_teams_and_mistakes_keep_what_was_typed(client, auth, world):
    admin = factories.user(Role.ADMIN, username="admin")
    auth.login(admin.username)
    estate = world["estate"]
    assert "奧的斯電梯維保" in client.get("/admin/teams/").get_data(as_text=True)
    answer = post(client, auth, f"/admin/teams/{estate.id}/new",
                  {"name": "自來水公司", "kind": "outside_party", "phone": "96390", "active": "1"})
    assert answer.status_code == 302
    assert team("自來水公司").phone == "96390" and team("自來水公司").active
    clash = post(client, auth, f"/admin/teams/{estate.id}/new", {"name": "工程部", "kind": "engineering", "phone": "12"})
    assert clash.status_code == 422
    html = clash.get_data(as_text=True)
    assert 'role="alert"' in html and 'value="12"' in html
    bad = post(client, auth, f"/admin/teams/{team('保潔部').id}", {"name": "保潔部", "kind": "cleaning", "phone": "call me"})
    assert bad.status_code == 422 and 'value="call me"' in bad.get_data(as_text=True)
    ok = post(client, auth, f"/admin/teams/{team('保潔部').id}", {"name": "保潔部", "kind": "cleaning", "phone": "8888"})
    assert ok.status_code == 302 and team("保潔部").phone == "8888" and not team("保潔部").active  # unticked: set aside


def test_a_supervisor_keeps_only_the_teams_of_their_whole_estates(client, auth, world):
    other = factories.estate("別人花園")
    theirs = teams.add_team(db.session, other, teams.TeamInput("工程部", "engineering"))
    db.session.commit()
    auth.login("u-supervisor")
    html = client.get("/admin/teams/").get_data(as_text=True)
    assert "翠湖花園" in html and "別人花園" not in html
    assert post(client, auth, f"/admin/teams/{theirs.id}", {"name": "x", "kind": "engineering"}).status_code == 404
    assert post(client, auth, f"/admin/teams/{other.id}/new", {"name": "x", "kind": "engineering"}).status_code == 404
    auth.logout()
    auth.login("u-desk")
    assert client.get("/admin/teams/").status_code in (302, 403, 404)
