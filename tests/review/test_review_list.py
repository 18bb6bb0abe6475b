"""The desk's review page (/desk/findings): filters, scope, keyset pages, counts at the top, refusals
of filters it does not understand, the photo viewer."""
from __future__ import annotations

import re
import uuid as uuidlib
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app import review
from app.extensions import db
from app.models import (
    Finding,
    FindingComment,
    RepairTicket,
    Role,
    RoundKind,
)
from app.repairs import tickets

from tests import factories
from tests.review.review_helpers import DAY, DEFECT, FINE, page_uuids, uuids, walked


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
    html = client.get("/desk/findings?kind=").get_data(as_text=True)  # every answer (the page opens on defects)
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
    html = client.get("/desk/findings?kind=").get_data(as_text=True)
    counts = re.findall(r"<strong>([0-9+]+)</strong>", html.split('class="counts review-counts"')[1].split("</ul>")[0])
    assert counts == ["3", "2", "3", "1"]
    monkeypatch.setattr(review.queries, "COUNT_CAP", 2)
    html = client.get("/desk/findings?kind=").get_data(as_text=True)
    assert "<strong>2+</strong>" in html


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
