"""Issue 16, item 8: the review opens on what needs a person (defects not yet reviewed, newest
first); marks can be undone (one's own, of that moment only); after a mark the desk comes back to
the next card, not the top; pages go back as well as forward."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import review
from app.extensions import db
from app.models import Role

from tests import factories
from tests.review.review_helpers import DAY, DEFECT, FINE, page_uuids, uuids, walked


def card_ids(html: str) -> list[str]:
    return re.findall(r'id="f-([0-9a-f-]{36})"', html)


def test_the_page_opens_on_defects_not_yet_reviewed_newest_first(client, auth, world):
    w = world
    old = walked(w["amy"], w["mine"], DAY - timedelta(days=3), [FINE, DEFECT, FINE], building=w["b1"])
    new = walked(w["bob"], w["mine"], DAY, [FINE] * 43 + [DEFECT], building=w["b2"])  # a defect at item 44
    seen = walked(w["amy"], w["mine"], DAY - timedelta(days=1), [DEFECT], building=w["b1"])
    review.mark_reviewed(db.session, w["desk"], uuids(seen))
    db.session.commit()
    auth.login("desk")
    html = client.get("/desk/findings").get_data(as_text=True)
    assert card_ids(html) == [new[43].uuid, old[1].uuid]
    assert 'name="defects_only" value="1" checked' in html and 'name="unreviewed_only" value="1" checked' in html
    # Unticking both shows every answer again.
    assert len(card_ids(client.get("/desk/findings?kind=").get_data(as_text=True))) == 3 + 44 + 1


def test_marking_one_comes_back_to_the_next_card_with_an_undo(client, auth, world):
    w = world
    found = walked(w["amy"], w["mine"], DAY, [DEFECT, DEFECT, DEFECT], building=w["b1"])
    auth.login("desk")
    html = client.get("/desk/findings").get_data(as_text=True)
    assert f'name="then" value="{found[1].uuid}"' in html  # the card after the first
    answer = client.post(f"/desk/findings/{found[0].uuid}/review",
                         data={"csrf_token": auth.csrf(), "next": "/desk/findings", "then": found[1].uuid})
    assert answer.status_code == 303 and answer.headers["Location"] == f"/desk/findings#f-{found[1].uuid}"
    page = client.get("/desk/findings").get_data(as_text=True)
    assert card_ids(page) == uuids(found[1:])  # the reviewed one left the list "not yet reviewed"
    undo = re.search(r'<form method="post" action="/desk/findings/unreview".*?</form>', page, re.S).group(0)
    assert found[0].uuid in undo
    at = re.search(r'name="at" value="([^"]+)"', undo).group(1)
    assert 'action="/desk/findings/unreview"' not in client.get("/desk/findings").get_data(as_text=True)  # once
    answer = client.post("/desk/findings/unreview", data={"csrf_token": auth.csrf(), "uuid": found[0].uuid, "at": at,
                                                          "next": "/desk/findings"})
    assert answer.status_code == 303
    db.session.refresh(found[0])
    assert found[0].reviewed_at is None and found[0].reviewed_by_id is None
    assert card_ids(client.get("/desk/findings").get_data(as_text=True)) == uuids(found)


def test_the_pages_script_marks_and_undoes_in_place(client, auth, world):
    w = world
    found = walked(w["amy"], w["mine"], DAY, [DEFECT, FINE, DEFECT], building=w["b1"])
    auth.login("desk")
    json_headers = {"Accept": "application/json"}
    answer = client.post("/desk/findings/review", headers=json_headers,
                         data={"csrf_token": auth.csrf(), "uuid": [found[0].uuid, found[2].uuid]})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["marked"] == 2 and body["undo"]["uuids"] == [found[0].uuid, found[2].uuid]
    back = client.post("/desk/findings/unreview", headers=json_headers,
                       data={"csrf_token": auth.csrf(), "uuid": body["undo"]["uuids"], "at": body["undo"]["at"]})
    assert back.status_code == 200 and back.get_json()["unmarked"] == 2
    assert review.review_counts(db.session, w["desk"], review.ReviewFilter()).unreviewed.value == 3
    refused = client.post("/desk/findings/unreview", headers=json_headers,
                          data={"csrf_token": auth.csrf(), "uuid": found[0].uuid, "at": "yesterday"})
    assert refused.status_code == 422 and refused.get_json()["message"]


def test_undo_takes_back_only_ones_own_marks_of_that_moment(world):
    w = world
    found = walked(w["amy"], w["mine"], DAY, [DEFECT, DEFECT, DEFECT], building=w["b1"])
    other = factories.user(Role.DESK, username="desk2", estates=[w["mine"]])
    from datetime import datetime, timezone
    first = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
    later = first + timedelta(minutes=5)
    review.mark_reviewed(db.session, w["desk"], [found[0].uuid], now=first)
    review.mark_reviewed(db.session, other, [found[1].uuid], now=later)
    review.mark_reviewed(db.session, w["desk"], [found[2].uuid], now=later)
    undone = review.unmark_reviewed(db.session, w["desk"], uuids(found), later)
    assert undone == 1
    for f in found:
        db.session.refresh(f)
    assert found[0].reviewed_at == first and found[1].reviewed_by_id == other.id and found[2].reviewed_at is None
    with pytest.raises(review.NotVisible):
        theirs = walked(w["zed"], w["theirs"], DAY, [DEFECT], building=w["tb"])
        review.unmark_reviewed(db.session, w["desk"], uuids(theirs), later)


def test_previous_page_goes_back_without_gaps_or_repeats(world):
    w = world
    for n in range(5):
        walked(w["amy"], w["mine"], DAY - timedelta(days=n // 2), [FINE] * (3 + n), building=w["b1"])
    flt = review.ReviewFilter()
    for size in (1, 4, 7):
        pages, before = [], None
        while True:
            page = review.review_page(db.session, w["desk"], flt, before=before, limit=size)
            pages.append(page)
            if page.next_before is None:
                break
            before = page.next_before
        assert not pages[0].has_previous
        for i in range(1, len(pages)):
            assert pages[i].has_previous
            back = page_uuids(w["desk"], flt, before=pages[i].previous_before, limit=size)
            assert back == uuids(pages[i - 1].findings), (size, i)


def test_previous_page_link_over_http(client, auth, world):
    w = world
    for n in range(4):
        walked(w["amy"], w["mine"], DAY - timedelta(days=n), [FINE] * 30, building=w["b1"])
    auth.login("desk")
    first = client.get("/desk/findings?kind=corridor").get_data(as_text=True)
    assert 'rel="prev"' not in first
    second_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(second_url).get_data(as_text=True)
    back = re.search(r'href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    assert card_ids(client.get(back).get_data(as_text=True)) == card_ids(first)
    third = client.get(re.search(r'href="([^"]+)" rel="next"', second).group(1).replace("&amp;", "&"))
    back = re.search(r'href="([^"]+)" rel="prev"', third.get_data(as_text=True)).group(1).replace("&amp;", "&")
    assert card_ids(client.get(back).get_data(as_text=True)) == card_ids(second)


def test_a_user_of_several_estates_pages_them_merged_both_ways(world):
    """No estate chosen by a user of two: each estate is read newest first by itself and the two
    merged, so the pages still follow each other (and go back) without gaps or repeats."""
    w = world
    made = []
    for n in range(6):  # the two estates' rounds interleaved by day, some days in both
        made += walked(w["amy"], w["mine"], DAY - timedelta(days=n), [FINE] * (2 + n % 3), building=w["b1"])
        made += walked(w["zed"], w["theirs"], DAY - timedelta(days=n + n % 2), [DEFECT] * (1 + n % 2),
                       building=w["tb"])
    flt = review.ReviewFilter()
    assert len(review.select_findings(db.session, w["sup"], flt).by_estate) == 2
    everything = review.review_page(db.session, w["sup"], flt, limit=1000).findings
    assert len(everything) == len(made)
    keys = [(-f.round.local_date.toordinal(), -f.round.id, f.id) for f in everything]
    assert keys == sorted(keys)
    for size in (1, 3, 5):
        pages, before = [], None
        while True:
            page = review.review_page(db.session, w["sup"], flt, before=before, limit=size)
            pages.append(page)
            if page.next_before is None:
                break
            before = page.next_before
        assert [u for p in pages for u in uuids(p.findings)] == uuids(everything)
        for i in range(1, len(pages)):
            back = page_uuids(w["sup"], flt, before=pages[i].previous_before, limit=size)
            assert back == uuids(pages[i - 1].findings), (size, i)
    defects = review.review_page(db.session, w["sup"], review.ReviewFilter(defects_only=True), limit=1000).findings
    assert uuids(defects) == [u for f, u in zip(everything, uuids(everything)) if f.result is DEFECT]


def test_a_user_of_several_estates_is_counted_estate_by_estate_alike(world):
    """The counts read estate by estate answer as one walk over both estates would, capped or not."""
    import dataclasses

    w = world
    for n in range(4):
        walked(w["amy"], w["mine"], DAY - timedelta(days=n), [FINE, DEFECT, FINE], building=w["b1"])
        walked(w["zed"], w["theirs"], DAY - timedelta(days=n), [DEFECT, FINE], building=w["tb"])
    for flt in (review.ReviewFilter(), review.ReviewFilter(defects_only=True), review.ReviewFilter(unreviewed_only=True)):
        split = review.select_findings(db.session, w["sup"], flt)
        whole = dataclasses.replace(split, by_estate=())
        assert split.by_estate
        for cap in (3, 5, 8, 1000):
            assert review.review_counts(db.session, w["sup"], flt, cap=cap, selection=split) == \
                review.review_counts(db.session, w["sup"], flt, cap=cap, selection=whole), (flt, cap)
    counted = review.review_counts(db.session, w["sup"], review.ReviewFilter(), cap=1000)
    assert (counted.findings.value, counted.defects.value, counted.rounds.value) == (20, 8, 8)
