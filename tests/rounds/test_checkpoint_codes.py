"""The checkpoint stickers' sheet (A4, a QR code per checkpoint with its place under it), made and
retired by the office, and the supervisor's rule that rounds of a kind scan every checkpoint."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import CheckpointCode, Role, RoundKind, ScanRule

from tests import factories
from tests.rounds.intake_helpers import start_corridor


def setup_world(world):
    world.add_person("boss", Role.SUPERVISOR, "estate", username="boss")
    world.add_person("clerk", Role.DESK, "estate", username="clerk")
    world.add_person("far_boss", Role.SUPERVISOR, "other", username="far-boss")
    return world.save()


def test_the_sheet_makes_and_prints_a_code_per_checkpoint(api, world):
    setup_world(world)
    api.login("clerk")
    page = api.get(f"/checkpoints/sheet?estate={world['estate'].id}&kind=corridor").get_data(as_text=True)
    assert "qr-card" not in page and "(3)" in page  # the stairwell and its two floors have no code yet
    made = api.client.post("/checkpoints/codes", data={"csrf_token": api.auth.csrf(), "estate": world["estate"].id,
                                                       "kind": "corridor"})
    assert made.status_code == 302
    codes = db.session.scalars(sa.select(CheckpointCode).order_by(CheckpointCode.id)).all()
    assert [c.label for c in codes] == ["1棟 1梯", "1棟 1梯 1F", "1棟 1梯 2F"]
    assert len({c.token for c in codes}) == 3 and all(len(c.token) >= 22 for c in codes)
    page = api.get(f"/checkpoints/sheet?estate={world['estate'].id}&kind=corridor").get_data(as_text=True)
    assert page.count('class="qr-card"') == 3 and page.count("<svg") >= 3 and "1棟 1梯 2F" in page
    assert "print-a4.css" in page
    # Made again: nothing new.
    api.client.post("/checkpoints/codes", data={"csrf_token": api.auth.csrf(), "estate": world["estate"].id,
                                                "kind": "corridor"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckpointCode)) == 3


def test_a_retired_code_leaves_the_sheet_and_a_new_one_is_made(api, world):
    setup_world(world)
    api.login("clerk")
    api.client.post("/checkpoints/codes", data={"csrf_token": api.auth.csrf(), "kind": "vacant_unit"})
    [code] = db.session.scalars(sa.select(CheckpointCode)).all()
    assert code.checkpoint_key == f"unit:{world['vacant'].id}"
    assert api.client.post(f"/checkpoints/codes/{code.id}/retire", data={"csrf_token": api.auth.csrf()}).status_code == 302
    db.session.refresh(code)
    assert code.retired
    api.client.post("/checkpoints/codes", data={"csrf_token": api.auth.csrf(), "kind": "vacant_unit"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckpointCode)) == 2


def test_another_estates_code_cannot_be_retired(api, world):
    setup_world(world)
    factories.entrance(world["other_building"])
    from app.rounds import checkpoints
    checkpoints.ensure_codes(db.session, world["other"], RoundKind.CORRIDOR)
    db.session.commit()
    theirs = db.session.scalars(sa.select(CheckpointCode)).first()
    api.login("clerk")
    assert api.client.post(f"/checkpoints/codes/{theirs.id}/retire", data={"csrf_token": api.auth.csrf()}).status_code == 404
    db.session.refresh(theirs)
    assert not theirs.retired


def test_the_supervisor_requires_scans_and_the_plan_says_so(api, world):
    setup_world(world)
    api.login("boss")
    answer = api.client.post("/checkpoints/rule", data={"csrf_token": api.auth.csrf(), "estate": world["estate"].id,
                                                         "kind": "corridor", "required": "1"})
    assert answer.status_code == 302
    rule = db.session.scalars(sa.select(ScanRule)).one()
    assert (rule.kind, rule.required, rule.changed_by_id) == (RoundKind.CORRIDOR, True, world["boss"].id)
    assert api.client.post("/checkpoints/rule", data={"csrf_token": api.auth.csrf(), "kind": "laser"}).status_code == 400
    api.auth.logout()
    api.login("amy")
    body, _ = start_corridor(api, world)
    assert api.get(f"/api/v1/rounds/{body['uuid']}").get_json()["scans_required"] is True
    pack = api.get("/api/v1/offline-pack").get_json()
    corridor = next(p for k, p in pack["plans"].items() if k.startswith("corridor/"))
    assert corridor["scans_required"] is True
    # Another estate's supervisor sets their own estate only: asking for this one is not found.
    api.auth.logout()
    api.login("far-boss")
    assert api.client.post("/checkpoints/rule", data={"csrf_token": api.auth.csrf(), "estate": world["estate"].id,
                                                       "kind": "corridor", "required": "0"}).status_code in (302, 404)
    db.session.refresh(rule)
    assert rule.required is True
