"""Material entry (app/decoration/materials.py): the gate asks, the steward decides, a refusal goes to
the desk and then up to the supervisor; each request once."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app import refusals
from app.decoration import materials, permits, violations
from app.extensions import db
from app.models.base import new_uuid

from tests.decoration.service_helpers import NOW, register


def test_material_refused_goes_to_the_desk_then_up(world):
    permit = register(world)
    request = materials.raise_material_request(db.session, world["gate"], uuid=new_uuid(), unit_id=world["unit"].id,
                                               materials="水泥 20 包", photo_uuid=new_uuid(), now=NOW)
    assert materials.material_tasks(db.session, world["amy"]) == [request]
    assert materials.material_tasks(db.session, world["bob"]) == []
    with pytest.raises(refusals.Rejected):
        materials.decide_material(db.session, world["amy"], uuid=new_uuid(), request_id=request.id, approved=False)
    decision = new_uuid()
    materials.decide_material(db.session, world["amy"], uuid=decision, request_id=request.id, approved=False,
                              reason="無裝修許可證複印件", now=NOW)
    assert materials.material_tasks(db.session, world["amy"]) == []
    with pytest.raises(refusals.Conflict):
        materials.decide_material(db.session, world["amy"], uuid=new_uuid(), request_id=request.id, approved=True)
    # Not settled with the owner within a day: the supervisor sees it.
    assert violations.escalations(db.session, world["boss"], NOW + timedelta(hours=2)).materials == []
    assert violations.escalations(db.session, world["boss"], NOW + timedelta(hours=25)).materials == [request]
    materials.settle_material(db.session, world["desk"], request, escalate=False, note="業主補交許可證")
    assert violations.escalations(db.session, world["boss"], NOW + timedelta(hours=25)).materials == []
    assert permit.events[-1].kind == "material_resolved"


def test_materials_for_a_stopped_site_cannot_be_approved(world):
    permit = register(world)
    permits.stop_work(db.session, world["desk"], permit, "私拆承重牆")
    request = materials.raise_material_request(db.session, world["gate"], uuid=new_uuid(), unit_id=world["unit"].id,
                                               materials="磚 200 塊", photo_uuid=new_uuid(), now=NOW)
    with pytest.raises(refusals.Conflict):
        materials.decide_material(db.session, world["amy"], uuid=new_uuid(), request_id=request.id, approved=True)
    assert request.decided_at is None


def test_the_gate_cannot_ask_for_a_unit_that_is_not_decorating(world):
    with pytest.raises(refusals.Conflict):
        materials.raise_material_request(db.session, world["gate"], uuid=new_uuid(), unit_id=world["below"].id,
                                         materials="水泥", photo_uuid=new_uuid(), now=NOW)


def test_an_escalated_material_request_is_settled_by_the_supervisor_only(world):
    register(world)
    request = materials.raise_material_request(db.session, world["gate"], uuid=new_uuid(), unit_id=world["unit"].id,
                                               materials="木板 30 張", photo_uuid=new_uuid(), now=NOW)
    materials.decide_material(db.session, world["amy"], uuid=new_uuid(), request_id=request.id, approved=False,
                              reason="超出登記範圍", now=NOW)
    materials.settle_material(db.session, world["desk"], request, escalate=True, note="業主不接電話")
    assert violations.escalations(db.session, world["boss"], NOW).materials == [request]
    with pytest.raises(refusals.Conflict):
        materials.settle_material(db.session, world["desk"], request, escalate=False, note="x")
    materials.settle_material(db.session, world["boss"], request, escalate=False, note="主管約見業主，材料退回")
    assert request.status.value == "resolved"
    assert violations.escalations(db.session, world["boss"], NOW).materials == []


def test_a_material_request_id_sent_again_with_other_details_is_a_conflict(world):
    register(world)
    uuid = new_uuid()
    materials.raise_material_request(db.session, world["gate"], uuid=uuid, unit_id=world["unit"].id,
                                     materials="水泥", photo_uuid=new_uuid(), now=NOW)
    with pytest.raises(refusals.Conflict):
        materials.raise_material_request(db.session, world["gate"], uuid=uuid, unit_id=world["unit"].id,
                                         materials="鋼筋", photo_uuid=new_uuid(), now=NOW)
