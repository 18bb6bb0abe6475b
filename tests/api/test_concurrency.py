"""The same thing sent many times at once is stored once, with no server error (SQLite and PostgreSQL)."""
from __future__ import annotations

import hashlib
import io
import threading
import uuid as uuidlib

import pytest
import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import Session

from app import refusals
from app.extensions import db
from app.models import (
    Finding,
    Photo,
    RepairTicket,
    Role,
    Round,
    RoundKind,
    RoundStatus,
    User,
)
from app.rounds import intake
from app.rounds.plan import build_plan

from tests import factories
from tests.conftest import AuthActions

SENDERS = 20


@pytest.fixture
def world(app):
    return factories.build_world(floors=2, stairwells=True, people={"amy": (Role.STEWARD, "estate")})


def clones(app, client, n):
    """n clients sharing `client`'s signed-in session (as one phone's retries would)."""
    cookie = client.get_cookie("session")
    result = []
    for _ in range(n):
        c = app.test_client()
        c.set_cookie("session", cookie.value)
        result.append(c)
    return result


def all_at_once(calls):
    start = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(i, call):
        start.wait(timeout=30)
        answers[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers


def count(model) -> int:
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_twenty_concurrent_starts_completions_and_photos_of_one_uuid(app, client, auth, world):
    auth.login("amy")
    token = auth.csrf()
    headers = {"X-CSRFToken": token}
    round_uuid = str(uuidlib.uuid4())
    start = {"uuid": round_uuid, "kind": "corridor", "estate_id": world["estate"].id,
             "building_id": world["building"].id}
    senders = clones(app, client, SENDERS)
    db.session.commit()

    answers = all_at_once([lambda c=c: c.post("/api/v1/rounds", json=start, headers=headers) for c in senders])
    assert [a.status_code for a in answers] == [201] * SENDERS
    assert len({a.get_data() for a in answers}) == 1
    assert count(Round) == 1

    plan = client.get(f"/api/v1/rounds/{round_uuid}").get_json()
    findings = [{"uuid": str(uuidlib.uuid4()), "checkpoint": c["key"], "item_code": code, "result": "fine"}
                for c in plan["checkpoints"] for code in c["items"]]
    completion = {"findings": findings}
    db.session.commit()
    answers = all_at_once([lambda c=c: c.post(f"/api/v1/rounds/{round_uuid}/completion", json=completion,
                                              headers=headers) for c in senders])
    assert [a.status_code for a in answers] == [201] * SENDERS, [a.get_json() for a in answers if a.status_code != 201]
    assert count(Finding) == len(findings)

    photo_uuid, data = str(uuidlib.uuid4()), factories.jpeg_bytes((800, 600))
    sha = hashlib.sha256(data).hexdigest()
    db.session.commit()
    answers = all_at_once([
        lambda c=c: c.put(f"/api/v1/photos/{photo_uuid}", headers=headers, content_type="multipart/form-data",
                          data={"finding_uuid": findings[0]["uuid"], "sha256": sha, "file": (io.BytesIO(data), "p.jpg")})
        for c in senders
    ])
    assert [a.status_code for a in answers] == [201] * SENDERS, [a.get_json() for a in answers if a.status_code != 201]
    assert count(Photo) == 1


def test_twenty_concurrent_start_and_completion_requests_of_one_round(app, client, auth, world):
    """A round walked offline goes up as one request carrying its start: twenty copies at once
    store one round with its findings and one ticket for its defect, and answer alike."""
    auth.login("amy")
    headers = {"X-CSRFToken": auth.csrf()}
    probe = str(uuidlib.uuid4())
    place = {"kind": "corridor", "estate_id": world["estate"].id, "building_id": world["building"].id}
    client.post("/api/v1/rounds", json={"uuid": probe, **place}, headers=headers)
    plan = client.get(f"/api/v1/rounds/{probe}").get_json()
    findings = [{"uuid": str(uuidlib.uuid4()), "checkpoint": c["key"], "item_code": code, "result": "fine"}
                for c in plan["checkpoints"] for code in c["items"]]
    defect = next(f for f in findings if f["item_code"] == "COR-HYGIENE")
    defect.update(result="defect", reason_code=next(
        i for i in plan["items"] if i["code"] == "COR-HYGIENE")["reasons"][0]["code"])
    round_uuid = str(uuidlib.uuid4())
    body = {"findings": findings, "start": place}
    senders = clones(app, client, SENDERS)
    rounds_before, findings_before = count(Round), count(Finding)
    db.session.commit()  # the test holds no transaction (no SQLite lock) while the senders run

    answers = all_at_once([lambda c=c: c.post(f"/api/v1/rounds/{round_uuid}/completion", json=body,
                                              headers=headers) for c in senders])
    assert [a.status_code for a in answers] == [201] * SENDERS, [a.get_json() for a in answers if a.status_code != 201]
    assert len({a.get_data() for a in answers}) == 1
    assert count(Round) == rounds_before + 1 and count(Finding) == findings_before + len(findings)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RepairTicket)) == 1


def test_someone_elses_uuids_are_404_everywhere(app, client, auth, world):
    owner_finding = factories.finding_with_photo(
        db.session.scalars(sa.select(factories.User).where(factories.User.username == "amy")).one(),
        world["estate"], world["building"])
    other_estate = factories.estate()
    factories.building(other_estate)
    factories.user(Role.STEWARD, username="zed", estates=[other_estate])
    factories.user(Role.DESK, username="zed-desk", estates=[other_estate])
    rnd = owner_finding.round
    photo = owner_finding.photos[0]
    for username in ("zed", "zed-desk"):
        auth.login(username)
        headers = {"X-CSRFToken": auth.csrf()}
        assert client.get(f"/api/v1/rounds/{rnd.uuid}").status_code == 404
        assert client.get(f"/rounds/{rnd.uuid}").status_code == 404
        assert client.get(f"/photos/{photo.uuid}/thumb").status_code == 404
        assert client.post(f"/api/v1/findings/{owner_finding.uuid}/amendments",
                           json={"uuid": str(uuidlib.uuid4()), "result": "fine", "why": "x"}, headers=headers).status_code == 404
        if username == "zed":
            assert client.post("/api/v1/rounds", json={"uuid": rnd.uuid, "kind": "corridor", "estate_id": world["estate"].id,
                                                       "building_id": world["building"].id}, headers=headers).status_code == 404
            assert client.post(f"/api/v1/rounds/{rnd.uuid}/completion", json={"findings": []},
                               headers=headers).status_code == 404
        auth.logout()


def test_the_same_defect_completed_at_once_by_several_stewards_opens_one_ticket(app, client, world):
    """Completions racing on one place and item: one ticket, every other defect seen again on it.
    (The `client` fixture makes every test client run each request in its own context.)"""
    from app.models import RepairTicket

    stewards = ["amy"] + [factories.user(Role.STEWARD, username=f"s{i}", estates=[world["estate"]]).username
                          for i in range(5)]
    db.session.commit()
    senders, completions = [], []
    for name in stewards:
        c = app.test_client()
        assert AuthActions(c).login(name).status_code == 302
        headers = {"X-CSRFToken": c.get("/api/v1/session").get_json()["csrf_token"]}
        round_uuid = str(uuidlib.uuid4())
        assert c.post("/api/v1/rounds", headers=headers, json={
            "uuid": round_uuid, "kind": "corridor", "estate_id": world["estate"].id,
            "building_id": world["building"].id}).status_code == 201
        plan = c.get(f"/api/v1/rounds/{round_uuid}").get_json()
        findings = [{"uuid": str(uuidlib.uuid4()), "checkpoint": p["key"], "item_code": code, "result": "fine"}
                    for p in plan["checkpoints"] for code in p["items"]]
        light = next(f for f in findings if f["item_code"] == "COR-LIGHT")
        light.update(result="defect", reason_code="LIGHT-OFF", photo_uuids=[str(uuidlib.uuid4())])
        senders.append((c, headers, round_uuid))
        completions.append({"findings": findings})
    db.session.commit()
    answers = all_at_once([lambda c=c, h=h, u=u, body=body: c.post(f"/api/v1/rounds/{u}/completion", json=body,
                                                                   headers=h)
                           for (c, h, u), body in zip(senders, completions)])
    assert [a.status_code for a in answers] == [201] * len(stewards), [a.get_json() for a in answers]
    assert count(RepairTicket) == 1
    ticket = db.session.scalars(sa.select(RepairTicket)).one()
    assert ticket.recurrences == len(stewards) - 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding).where(Finding.ticket_id == ticket.id)) \
        == len(stewards)


@pytest.mark.parametrize("same_answers", [True, False], ids=["same", "other"])
def test_a_completion_that_read_the_round_before_its_twin_stored_it_gets_the_twins_answer(app, world, same_answers):
    """PostgreSQL reads each statement afresh: a request can read the round as started, then find
    the findings its twin stored meanwhile. That is the twin's completion, not another round's."""
    amy = db.session.scalars(sa.select(User).where(User.username == "amy")).one()
    rnd = intake.start_round(db.session, amy, uuid=str(uuidlib.uuid4()), kind=RoundKind.CORRIDOR,
                             estate_id=world["estate"].id, building_id=world["building"].id)
    plan = build_plan(db.session, rnd)
    findings = [intake.FindingInput(uuid=str(uuidlib.uuid4()), checkpoint=p.key, item_code=i.code, result="fine")
                for p in plan.checkpoints for i in plan.items_at[p.key]]
    db.session.commit()
    session = db.session()
    session.expire_on_commit = False  # the request keeps the round as it read it
    stale = intake.round_for(session, amy, rnd.uuid)
    session.commit()  # its next statements read afresh, as under PostgreSQL's READ COMMITTED
    with Session(db.engine) as twin:
        intake.complete_round(twin, twin.get(User, amy.id), rnd.uuid, findings, fingerprint="sent")
        twin.commit()

    def complete():
        return intake.completion_to_store(session, amy, rnd.uuid, findings,
                                          fingerprint="sent" if same_answers else "changed", new_round=stale)

    if same_answers:
        answer = complete()
        assert isinstance(answer, Round) and answer.status is RoundStatus.COMPLETED
    else:
        with pytest.raises(refusals.Conflict) as refused:
            complete()
        assert str(refused.value) == gettext(
            "This round was already completed with other answers. Correct it from the round's summary.")
    session.expire_on_commit = True
    assert count(Round) == 1 and count(Finding) == len(findings)
