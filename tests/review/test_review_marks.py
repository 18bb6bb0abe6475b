"""What the desk does on the review page: 'reviewed' marks (one and all on the page), comments, and
route corrections of the findings' tickets."""
from __future__ import annotations

import uuid as uuidlib

import pytest
import sqlalchemy as sa

from app import review
from app.extensions import db
from app.models import (
    DefectRoute,
    FindingComment,
    Role,
    TicketEvent,
    TicketStatus,
)
from app.repairs import tickets

from tests import factories
from tests.review.review_helpers import DAY, DEFECT, FINE, uuids, walked


# --- review marks, comments, route corrections -------------------------------------------


def test_marking_reviewed_one_and_all_on_the_page(client, auth, world):
    w = world
    found = walked(w["amy"], w["mine"], DAY, [FINE, DEFECT, FINE], building=w["b1"])
    auth.login("desk")
    token = auth.csrf()
    back = "/desk/findings?defects_only=1&kind=corridor"
    answer = client.post(f"/desk/findings/{found[1].uuid}/review", data={"csrf_token": token, "next": back})
    assert answer.status_code == 303 and answer.headers["Location"] == f"{back}#f-{found[1].uuid}"
    db.session.refresh(found[1])
    assert found[1].reviewed_by_id == w["desk"].id and found[1].reviewed_at is not None
    first_at = found[1].reviewed_at
    html = client.get(back).get_data(as_text=True)
    assert html.count('data-reviewed="yes"') == 1
    # All on the page: the one already reviewed keeps its first review.
    other = factories.user(Role.DESK, username="desk2", estates=[w["mine"]])
    auth.logout()
    auth.login(other.username)
    token = auth.csrf()
    answer = client.post("/desk/findings/review", data={"csrf_token": token, "uuid": uuids(found), "next": back})
    assert answer.status_code == 303 and answer.headers["Location"] == back
    for f in found:
        db.session.refresh(f)
    assert found[1].reviewed_by_id == w["desk"].id and found[1].reviewed_at == first_at
    assert {f.reviewed_by_id for f in (found[0], found[2])} == {other.id}
    assert 'class="flash flash-info"' in client.get(back).get_data(as_text=True)
    assert review.review_page(db.session, w["desk"], review.ReviewFilter(unreviewed_only=True)).findings == []


@pytest.mark.parametrize("target", ["https://evil.example/desk/findings", "//evil.example/x", "/desk/import",
                                    "/desk/findings.csv?date_from=2026-01-01", "javascript:alert(1)", ""])
def test_after_a_post_only_the_review_page_is_a_way_back(client, auth, world, target):
    found = walked(world["amy"], world["mine"], DAY, [FINE], building=world["b1"])
    auth.login("desk")
    answer = client.post(f"/desk/findings/{found[0].uuid}/review", data={"csrf_token": auth.csrf(), "next": target})
    assert answer.status_code == 303
    assert answer.headers["Location"].split("#")[0] == "/desk/findings"


def test_mark_reviewed_counts_only_new_marks_and_refuses_nothing_or_too_many(world):
    found = walked(world["amy"], world["mine"], DAY, [FINE, FINE, DEFECT], building=world["b1"])
    assert review.mark_reviewed(db.session, world["desk"], [found[0].uuid]) == 1
    assert review.mark_reviewed(db.session, world["desk"], uuids(found) + [found[1].uuid]) == 2
    assert {f.reviewed_by_id for f in found} == {world["desk"].id}
    with pytest.raises(review.ReviewError):
        review.mark_reviewed(db.session, world["desk"], ["", "  "])
    with pytest.raises(review.ReviewError):
        review.mark_reviewed(db.session, world["desk"], [str(uuidlib.uuid4()) for _ in range(201)])
    with pytest.raises(review.NotVisible):
        review.mark_reviewed(db.session, world["desk"], [str(uuidlib.uuid4())])


def test_comments_are_added_and_refused_when_empty_or_long(client, auth, world):
    found = walked(world["amy"], world["mine"], DAY, [DEFECT], building=world["b1"])
    auth.login("desk")
    token = auth.csrf()
    url = f"/desk/findings/{found[0].uuid}/comments"
    ok = client.post(url, data={"csrf_token": token, "text": "  已通知工程部，明早處理  "})
    assert ok.status_code == 303 and ok.headers["Location"].endswith(f"#f-{found[0].uuid}")
    for text in ("", "   ", "長" * 1001):
        refused = client.post(url, data={"csrf_token": token, "text": text}, follow_redirects=True)
        assert refused.status_code == 200 and 'class="flash flash-error"' in refused.get_data(as_text=True)
    assert client.post(url, data={"csrf_token": token, "text": "字" * 1000}).status_code == 303
    comments = db.session.scalars(sa.select(FindingComment).order_by(FindingComment.id)).all()
    assert [c.text for c in comments] == ["已通知工程部，明早處理", "字" * 1000]
    assert comments[0].by_id == world["desk"].id
    assert "已通知工程部，明早處理" in client.get("/desk/findings").get_data(as_text=True)
    with pytest.raises(review.ReviewError):
        review.add_comment(db.session, world["desk"], found[0].uuid, "\n\t ")


def test_route_correction_logs_a_ticket_event(client, auth, world):
    w = world
    found = walked(w["amy"], w["mine"], DAY, [DEFECT], building=w["b1"], item_code="COR-LIGHT")
    ticket = tickets.ticket_for_defect(db.session, found[0])
    assert ticket.route is DefectRoute.ENGINEERING
    auth.login("desk")
    html = client.get("/desk/findings").get_data(as_text=True)
    assert f'href="/tickets/{ticket.id}">{ticket.number}</a>' in html
    token = auth.csrf()
    url = f"/desk/findings/{found[0].uuid}/route"
    answer = client.post(url, data={"csrf_token": token, "route": "cleaning", "note": "其實是垃圾堆放"})
    assert answer.status_code == 303
    db.session.refresh(ticket)
    assert ticket.route is DefectRoute.CLEANING
    event = db.session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                               .order_by(TicketEvent.id.desc())).first()
    assert event.kind == "rerouted" and event.by_id == w["desk"].id and event.note == "其實是垃圾堆放"
    assert event.data == {"route_from": "engineering", "route_to": "cleaning"}


def events_of(ticket):
    db.session.flush()
    return db.session.scalar(sa.select(sa.func.count()).select_from(TicketEvent).where(TicketEvent.ticket_id == ticket.id))


@pytest.mark.parametrize("route", ["decoration_violation", "nonsense", ""])
def test_a_bad_route_is_refused_and_changes_nothing(client, auth, world, route):
    found = walked(world["amy"], world["mine"], DAY, [DEFECT], building=world["b1"], item_code="COR-LIGHT")
    ticket = tickets.ticket_for_defect(db.session, found[0])
    before = events_of(ticket)
    auth.login("desk")
    answer = client.post(f"/desk/findings/{found[0].uuid}/route", data={"csrf_token": auth.csrf(), "route": route},
                         follow_redirects=True)
    assert 'class="flash flash-error"' in answer.get_data(as_text=True)
    db.session.refresh(ticket)
    assert ticket.route is DefectRoute.ENGINEERING and events_of(ticket) == before


def test_no_ticket_or_a_closed_ticket_cannot_be_rerouted(world):
    w = world
    plain = walked(w["amy"], w["mine"], DAY, [DEFECT], building=w["b1"], item_code="COR-LIGHT")
    with pytest.raises(review.ReviewError):
        review.correct_route(db.session, w["desk"], plain[0].uuid, "cleaning")
    ticket = tickets.ticket_for_defect(db.session, plain[0])
    ticket.status = TicketStatus.CLOSED
    with pytest.raises(review.ReviewError):
        review.correct_route(db.session, w["desk"], plain[0].uuid, "cleaning")
    assert ticket.route is DefectRoute.ENGINEERING
    # The same route again is no change and no event.
    ticket.status = TicketStatus.NEW
    n = events_of(ticket)
    assert review.correct_route(db.session, w["desk"], plain[0].uuid, "engineering") is False
    assert events_of(ticket) == n
