"""The desk's review page (issue 5, item 7) and the findings CSV (item 9): filters, scope,
keyset pages, counts, 'reviewed' marks, comments, route corrections, refusals, Excel-safe CSV."""
from __future__ import annotations

import csv
import io
import re
import uuid as uuidlib
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import review
from app.extensions import db
from app.models import (
    DefectRoute,
    Finding,
    FindingComment,
    FindingResult,
    RepairTicket,
    Role,
    RoundKind,
    TicketEvent,
    TicketStatus,
    UnitState,
)
from app.repairs import tickets
from app.rounds import intake

from tests import factories

DAY = date(2026, 11, 24)
DEFECT, FINE = FindingResult.DEFECT, FindingResult.FINE


def walked(steward, estate, day, results, building=None, kind=RoundKind.CORRIDOR, unit=None, note="",
           item_code=None):
    """A completed round with one finding per result (first items of its checklist), in order."""
    rnd = factories.round_(kind, steward, estate, day, building_=building, unit_=unit)
    items = [i for i in rnd.checklist_version.items if i.item_type.value == "check"]
    if item_code:
        items = [next(i for i in items if i.code == item_code)]
    entrance = building.entrances[0] if building is not None and building.entrances else None
    found = []
    for n, result in enumerate(results):
        item = items[n % len(items)]
        reason = item.reasons[0]["code"] if result is DEFECT and item.reasons else None
        f = Finding(uuid=str(uuidlib.uuid4()), round=rnd, item=item, result=result, reason_code=reason,
                    entrance_id=entrance.id if entrance and kind is RoundKind.CORRIDOR else None,
                    floor=(n % 3) + 1 if kind is RoundKind.CORRIDOR else None,
                    unit_id=unit.id if unit is not None else None, note=note,
                    recorded_at=datetime.now(timezone.utc))
        db.session.add(f)
        found.append(f)
    db.session.flush()
    return found


@pytest.fixture
def world(app):
    w = factories.World()
    w.add_estate("mine", "翠湖花園")
    w.add_building("b1", "mine", "1棟", floors=3, stairwell=True)
    w.add_building("b2", "mine", "2棟", floors=3, stairwell=True)
    w.add_estate("theirs", "別人花園")
    w.add_building("tb", "theirs", "9棟", floors=3, stairwell=True)
    w.add_person("amy", Role.STEWARD, "mine", display_name="管家甲")
    w.add_person("bob", Role.STEWARD, "mine", display_name="管家乙")
    w.add_person("zed", Role.STEWARD, "theirs", display_name="管家丙")
    w.add_person("desk", Role.DESK, "mine", display_name="前台甲")
    w.add_person("sup", Role.SUPERVISOR, "mine", "theirs")
    return w


def page_uuids(user, flt=review.ReviewFilter(), **kw):
    return [f.uuid for f in review.review_page(db.session, user, flt, **kw).findings]


def uuids(findings):
    return [f.uuid for f in findings]


# --- filters -----------------------------------------------------------------------------


def test_each_filter_narrows_the_list(world):
    w = world
    corridor_b1 = walked(w["amy"], w["mine"], DAY, [FINE, DEFECT], building=w["b1"])
    corridor_b2 = walked(w["bob"], w["mine"], DAY - timedelta(days=3), [DEFECT, FINE], building=w["b2"])
    facility = walked(w["amy"], w["mine"], DAY - timedelta(days=10), [FINE, FINE], kind=RoundKind.FACILITY)
    theirs = walked(w["zed"], w["theirs"], DAY, [DEFECT], building=w["tb"])
    corridor_b1[0].reviewed_at, corridor_b1[0].reviewed_by_id = datetime.now(timezone.utc), w["desk"].id
    sup, F = w["sup"], review.ReviewFilter

    assert set(page_uuids(sup)) == set(uuids(corridor_b1 + corridor_b2 + facility + theirs))
    assert set(page_uuids(sup, F(estate_id=w["mine"].id))) == set(uuids(corridor_b1 + corridor_b2 + facility))
    assert set(page_uuids(sup, F(estate_id=w["theirs"].id))) == set(uuids(theirs))
    assert set(page_uuids(sup, F(building_id=w["b2"].id))) == set(uuids(corridor_b2))
    assert set(page_uuids(sup, F(kind=RoundKind.FACILITY))) == set(uuids(facility))
    assert set(page_uuids(sup, F(steward_id=w["bob"].id))) == set(uuids(corridor_b2))
    assert set(page_uuids(sup, F(date_from=DAY - timedelta(days=3), date_to=DAY - timedelta(days=3)))) == set(
        uuids(corridor_b2))  # both ends included
    assert set(page_uuids(sup, F(date_to=DAY - timedelta(days=4)))) == set(uuids(facility))
    assert set(page_uuids(sup, F(date_from=DAY - timedelta(days=3)))) == set(uuids(corridor_b1 + corridor_b2 + theirs))
    assert set(page_uuids(sup, F(defects_only=True))) == {corridor_b1[1].uuid, corridor_b2[0].uuid, theirs[0].uuid}
    assert corridor_b1[0].uuid not in page_uuids(sup, F(unreviewed_only=True))
    assert len(page_uuids(sup, F(unreviewed_only=True))) == 6
    both = F(estate_id=w["mine"].id, building_id=w["b1"].id, kind=RoundKind.CORRIDOR, steward_id=w["amy"].id,
             date_from=DAY, date_to=DAY, defects_only=True, unreviewed_only=True)
    assert page_uuids(sup, both) == [corridor_b1[1].uuid]


def test_rounds_in_progress_are_not_listed(world):
    w = world
    done = walked(w["amy"], w["mine"], DAY, [FINE], building=w["b1"])
    rnd = factories.round_(RoundKind.CORRIDOR, w["amy"], w["mine"], DAY, building_=w["b1"], completed=False)
    item = rnd.checklist_version.items[0]
    db.session.add(Finding(uuid=str(uuidlib.uuid4()), round=rnd, item=item, result=FINE,
                           recorded_at=datetime.now(timezone.utc)))
    db.session.flush()
    assert page_uuids(w["desk"]) == uuids(done)


def test_the_filter_form_and_the_list_over_http(client, auth, world):
    w = world
    walked(w["amy"], w["mine"], DAY, [FINE, DEFECT], building=w["b1"])
    walked(w["bob"], w["mine"], DAY, [DEFECT], building=w["b2"], note="二號樓備註")
    auth.login("desk")
    html = client.get("/desk/findings").get_data(as_text=True)
    assert html.count('class="card finding result-') == 3
    # One estate: its buildings and stewards are offered.
    assert ">1棟</option>" in html and ">管家乙</option>" in html
    assert 'name="date_from"' in html and 'name="defects_only"' in html and 'name="unreviewed_only"' in html
    html = client.get(f"/desk/findings?building_id={w['b2'].id}&defects_only=1").get_data(as_text=True)
    assert html.count('class="card finding result-defect"') == 1 and "二號樓備註" in html
    assert f'<option value="{w["b2"].id}" selected>' in html  # the choice is kept
    assert 'name="defects_only" value="1" checked' in html


# --- scope -------------------------------------------------------------------------------


def test_another_estates_findings_never_show(client, auth, world):
    w = world
    mine = walked(w["amy"], w["mine"], DAY, [DEFECT], building=w["b1"], note="我的")
    theirs = walked(w["zed"], w["theirs"], DAY, [DEFECT], building=w["tb"], note="別人的備註")
    auth.login("desk")
    listing = client.get("/desk/findings").get_data(as_text=True)
    assert mine[0].uuid in listing and theirs[0].uuid not in listing and "別人" not in listing
    # Naming their estate, building, steward or a finding of theirs tells nothing.
    assert client.get(f"/desk/findings?estate_id={w['theirs'].id}").status_code == 404
    assert client.get(f"/desk/findings?building_id={w['tb'].id}").status_code == 404
    assert client.get(f"/desk/findings?estate_id={w['mine'].id}&building_id={w['tb'].id}").status_code == 404
    assert client.get("/desk/findings?estate_id=999999").status_code == 404
    by_zed = client.get(f"/desk/findings?steward_id={w['zed'].id}").get_data(as_text=True)
    assert theirs[0].uuid not in by_zed and "別人的備註" not in by_zed
    assert client.get(f"/desk/findings?before={theirs[0].id}").status_code == 400
    csv_url = f"/desk/findings.csv?date_from={DAY}&date_to={DAY}"
    assert client.get(csv_url + f"&estate_id={w['theirs'].id}").status_code == 404
    assert "別人的備註" not in client.get(csv_url).get_data(as_text=True)
    token = auth.csrf()
    for path, data in ((f"/desk/findings/{theirs[0].uuid}/review", {}),
                       (f"/desk/findings/{theirs[0].uuid}/comments", {"text": "看看"}),
                       (f"/desk/findings/{theirs[0].uuid}/route", {"route": "cleaning"})):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404
    bulk = client.post("/desk/findings/review", data={"csrf_token": token, "uuid": [mine[0].uuid, theirs[0].uuid]})
    assert bulk.status_code == 303
    db.session.refresh(mine[0])
    db.session.refresh(theirs[0])
    assert mine[0].reviewed_at is None and theirs[0].reviewed_at is None  # all or none
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FindingComment)) == 0


def test_a_building_scoped_desk_sees_only_its_buildings(world):
    w = world
    b1 = walked(w["amy"], w["mine"], DAY, [FINE], building=w["b1"])
    walked(w["bob"], w["mine"], DAY, [FINE], building=w["b2"])
    walked(w["amy"], w["mine"], DAY, [FINE], kind=RoundKind.FACILITY)
    desk_b1 = factories.user(Role.DESK, buildings=[w["b1"]])
    assert page_uuids(desk_b1) == uuids(b1)
    with pytest.raises(review.NotVisible):
        review.review_page(db.session, desk_b1, review.ReviewFilter(building_id=w["b2"].id))


# --- pages -------------------------------------------------------------------------------


def test_pages_follow_each_other_without_gaps_or_repeats(world):
    w = world
    made = []
    for n in range(6):  # several rounds a day, and a round larger than a page
        made += walked(w["amy"], w["mine"], DAY - timedelta(days=n // 2), [FINE] * (3 + n), building=w["b1"])
    everything = review.review_page(db.session, w["desk"], review.ReviewFilter(), limit=1000).findings
    assert len(everything) == len(made) == sum(3 + n for n in range(6))
    keys = [(-f.round.local_date.toordinal(), -f.round.id, f.id) for f in everything]
    assert keys == sorted(keys)  # newest round first, then the round's findings in order
    for size in (1, 4, 7, 50):
        seen, before = [], None
        while True:
            page = review.review_page(db.session, w["desk"], review.ReviewFilter(), before=before, limit=size)
            assert len(page.findings) <= size
            seen += page.findings
            if page.next_before is None:
                break
            assert page.next_before == page.findings[-1].id
            before = page.next_before
        assert uuids(seen) == uuids(everything)


def test_next_page_link_over_http(client, auth, world):
    w = world
    for n in range(3):
        walked(w["amy"], w["mine"], DAY - timedelta(days=n), [FINE] * 20, building=w["b1"])
    auth.login("desk")
    first = client.get("/desk/findings?kind=corridor").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "kind=corridor" in link and "before=" in link
    second = client.get(link).get_data(as_text=True)
    ids_1 = re.findall(r'id="f-([0-9a-f-]{36})"', first)
    ids_2 = re.findall(r'id="f-([0-9a-f-]{36})"', second)
    assert len(ids_1) == 50 and len(ids_2) == 10 and not set(ids_1) & set(ids_2)
    assert 'rel="next"' not in second and 'href="/desk/findings?kind=corridor"' in second  # back to the first page
    assert client.get("/desk/findings?before=abc").status_code == 400


# --- counts ------------------------------------------------------------------------------


def test_counts_for_the_filter_and_capped(world):
    w = world
    a = walked(w["amy"], w["mine"], DAY, [FINE, DEFECT, DEFECT], building=w["b1"])
    walked(w["bob"], w["mine"], DAY, [FINE, FINE], building=w["b2"])
    walked(w["zed"], w["theirs"], DAY, [DEFECT], building=w["tb"])
    a[1].reviewed_at = datetime.now(timezone.utc)
    counts = review.review_counts(db.session, w["desk"], review.ReviewFilter())
    assert [str(c) for c in (counts.findings, counts.defects, counts.unreviewed, counts.rounds)] == ["5", "2", "4", "2"]
    counts = review.review_counts(db.session, w["desk"], review.ReviewFilter(defects_only=True))
    assert [str(c) for c in (counts.findings, counts.defects, counts.unreviewed, counts.rounds)] == ["2", "2", "1", "1"]
    capped = review.review_counts(db.session, w["sup"], review.ReviewFilter(), cap=3)
    assert str(capped.findings) == "3+" and capped.findings.capped
    assert str(capped.defects) == "3" and str(capped.rounds) == "3" and str(capped.unreviewed) == "3+"
    none = review.review_counts(db.session, w["desk"], review.ReviewFilter(kind=RoundKind.METER))
    assert str(none.findings) == str(none.rounds) == "0"


def test_counts_are_shown_at_the_top(client, auth, world, monkeypatch):
    w = world
    walked(w["amy"], w["mine"], DAY, [FINE, DEFECT, DEFECT], building=w["b1"])
    auth.login("desk")
    html = client.get("/desk/findings").get_data(as_text=True)
    counts = re.findall(r"<strong>([0-9+]+)</strong>", html.split('class="counts review-counts"')[1].split("</ul>")[0])
    assert counts == ["3", "2", "3", "1"]
    monkeypatch.setattr(review, "COUNT_CAP", 2)
    html = client.get("/desk/findings").get_data(as_text=True)
    assert "<strong>2+</strong>" in html


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


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "date_from=2026-13-01", "date_to=yesterday", "date_from=2026-11-30&date_to=2026-11-01",
    "date_from=2025-01-01&date_to=2026-01-02", "estate_id=abc", "building_id=-1", "steward_id=1.5",
    "kind=picnic", "before=xyz",
])
def test_bad_filters_are_refused_with_a_message(client, auth, world, query):
    walked(world["amy"], world["mine"], DAY, [FINE], building=world["b1"])
    auth.login("desk")
    answer = client.get(f"/desk/findings?{query}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'class="flash flash-error" role="alert"' in html
    assert 'class="card finding' not in html  # nothing listed under a filter that was not understood


def test_filter_parsing(app):
    F = review.ReviewFilter
    flt = F.from_args({"estate_id": "3", "kind": "meter", "date_from": "2025-11-25", "date_to": "2026-11-25",
                       "defects_only": "1", "unreviewed_only": "on", "steward_id": ""})
    assert flt == F(estate_id=3, kind=RoundKind.METER, date_from=date(2025, 11, 25), date_to=date(2026, 11, 25),
                    defects_only=True, unreviewed_only=True)
    assert flt.days == 366 and F.from_args(flt.to_args()) == flt
    with pytest.raises(review.FilterError) as refused:
        F.from_args({"date_from": "2025-11-24", "date_to": "2026-11-25", "estate_id": "x"})
    assert len(refused.value.messages) == 2  # every problem at once
    with pytest.raises(review.FilterError):
        F(date_from=date(2026, 1, 1)).check_exportable()


# --- CSV -----------------------------------------------------------------------------------


def read_csv(response):
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese text right
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_of_the_filtered_findings(client, auth, world):
    w = world
    a = walked(w["amy"], w["mine"], DAY, [FINE, DEFECT], building=w["b1"], note="樓道燈不亮，已報修",
               item_code="COR-LIGHT")
    a[1].note = "=HYPERLINK(\"http://evil\")"
    walked(w["bob"], w["mine"], DAY - timedelta(days=40), [DEFECT], building=w["b2"])
    rnd_unit = factories.unit(w["b2"], "2-301", state=UnitState.VACANT)
    walked(w["amy"], w["mine"], DAY, [DEFECT], building=w["b2"], kind=RoundKind.VACANT_UNIT, unit=rnd_unit)
    ticket = tickets.ticket_for_defect(db.session, a[1])
    a[0].reviewed_at = datetime(2026, 11, 24, 6, 30, tzinfo=timezone.utc)
    auth.login("desk")
    response = client.get(f"/desk/findings.csv?date_from={DAY - timedelta(days=7)}&date_to={DAY}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    header, rows = rows[0], rows[1:]
    assert len(header) == 13 and all(len(r) == 13 for r in rows)
    assert len(rows) == 3  # the round 40 days ago is outside the range
    by_note = {r[10]: r for r in rows}
    fine = by_note["樓道燈不亮，已報修"]
    assert fine[:3] == ["翠湖花園", "1棟", "1梯 1F"] and fine[4] == DAY.isoformat() and fine[5] == "管家甲"
    assert fine[7] and fine[8] == "" and fine[9] == ""  # a fine answer: no reading, no reason
    assert fine[12] == "2026-11-24 14:30"  # reviewed, in the estate's time
    injected = by_note["'=HYPERLINK(\"http://evil\")"]  # quoted: Excel shows it as text, never runs it
    assert injected[11] == ticket.number and injected[9]  # the ticket and the reason
    unit_row = next(r for r in rows if r[2] == "2-301")
    assert unit_row[1] == "2棟"
    defects = read_csv(client.get(f"/desk/findings.csv?date_from={DAY}&date_to={DAY}&defects_only=1"))[1:]
    assert len(defects) == 2


@pytest.mark.parametrize("query", ["", "date_from=2026-01-01", "date_to=2026-01-01",
                                   "date_from=2025-01-01&date_to=2026-01-02", "date_from=bad&date_to=2026-01-01"])
def test_csv_without_a_bounded_range_is_refused(client, auth, world, query):
    walked(world["amy"], world["mine"], DAY, [FINE], building=world["b1"])
    auth.login("desk")
    response = client.get(f"/desk/findings.csv?{query}")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    assert 'class="flash flash-error" role="alert"' in response.get_data(as_text=True)


def test_csv_reads_in_batches_and_keeps_the_order(world, monkeypatch):
    w = world
    for n in range(4):
        walked(w["amy"], w["mine"], DAY - timedelta(days=n), [FINE] * 5, building=w["b1"])
    flt = review.ReviewFilter(date_from=DAY - timedelta(days=10), date_to=DAY)
    selection = review.select_findings(db.session, w["desk"], flt)
    expected = [f.round.local_date.isoformat() for f in review.review_page(db.session, w["desk"], flt, limit=100).findings]
    db.session.commit()
    with Session(db.engine) as session:  # as the CSV view reads: its own session, emptied per batch
        rows = list(review.export_rows(session, selection, "zh_Hant", batch=3))
    assert [r[4] for r in rows] == expected and len(rows) == 20


# --- the page itself ---------------------------------------------------------------------


def test_the_page_has_a_photo_viewer_without_inline_script(client, auth, world):
    finding = factories.finding_with_photo(world["amy"], world["mine"], world["b1"])
    auth.login("desk")
    html = client.get("/desk/findings").get_data(as_text=True)
    photo = finding.photos[0].uuid
    assert f'href="/photos/{photo}/display"' in html and f'src="/photos/{photo}/thumb"' in html
    assert '<dialog class="viewer" id="photo-viewer"' in html
    assert '<script type="module" src="/static/js/review.js"></script>' in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert client.get("/static/js/review.js").status_code == 200
    assert client.get("/static/css/review.css").status_code == 200


def test_a_ticket_found_again_shows_once_per_finding(world):
    w = world
    first = walked(w["amy"], w["mine"], DAY - timedelta(days=7), [DEFECT], building=w["b1"], item_code="COR-LIGHT")
    again = walked(w["amy"], w["mine"], DAY, [DEFECT], building=w["b1"], item_code="COR-LIGHT")
    ticket = tickets.ticket_for_defect(db.session, first[0])
    again[0].floor = first[0].floor
    assert tickets.ticket_for_defect(db.session, again[0]) is ticket
    listed = review.review_page(db.session, w["desk"], review.ReviewFilter(defects_only=True)).findings
    assert [f.ticket.number for f in listed] == [ticket.number, ticket.number]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RepairTicket)) == 1


def test_a_corrected_answer_is_shown_and_exported_as_it_stands(client, auth, world):
    pass  # import moved

    found = walked(world["amy"], world["mine"], DAY, [DEFECT], building=world["b1"], item_code="COR-LIGHT")
    intake.amend_finding(db.session, world["desk"], found[0].uuid, result=FINE, why="燈已修好", note="複查正常")
    auth.login("desk")
    html = client.get("/desk/findings").get_data(as_text=True)
    assert 'class="card finding result-fine"' in html and "複查正常" in html
    rows = read_csv(client.get(f"/desk/findings.csv?date_from={DAY}&date_to={DAY}"))[1:]
    assert len(rows) == 1 and rows[0][10] == "複查正常" and rows[0][9] == ""  # fine now: no reason


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
