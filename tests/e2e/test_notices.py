"""A gate's material request reaches the steward within seconds on whatever page is open: the bell's
count goes up and the notice shows, by the bell's poll (js/notices.js), in real Chromium."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app import demo
from app.decoration import materials, permits
from app.extensions import db
from app.models import Role, UnitState
from app.models.base import new_uuid
from tests import factories

from .conftest import sign_in

pytestmark = pytest.mark.e2e


def test_a_gate_request_appears_on_the_stewards_open_page(app, live_server, phone):
    estate = factories.estate()
    building = factories.building(estate, floors=3)
    unit = factories.unit(building, "201", state=UnitState.OCCUPIED, floor=2)
    factories.user(Role.STEWARD, "bell-steward", buildings=[building], password=demo.DEMO_PASSWORD)
    desk = factories.user(Role.DESK, "bell-desk", estates=[estate])
    gate = factories.user(Role.GATE, "bell-gate", estates=[estate])
    permits.register(db.session, desk, permits.Registration(
        unit_id=unit.id, owner_name="陳大文", owner_phone="13800138000", contractor_name="好師傅裝修",
        contractor_phone="13900139000", workers=3, planned_start=date.today(),
        planned_end=date.today() + timedelta(days=30), scope="廚房翻新", deposit=Decimal("0")))
    db.session.commit()

    sign_in(phone, live_server, "bell-steward")
    phone.goto(f"{live_server}/decoration/")  # not the today page: any page hears it
    bell = phone.locator("a.bell")
    assert bell.get_attribute("data-unread") == "0"
    phone.wait_for_function("() => sessionStorage.getItem('xuncha-notice-seen') !== null")  # the bell has polled once

    materials.raise_material_request(db.session, gate, uuid=new_uuid(), unit_id=unit.id, materials="瓷磚 30 箱",
                                     photo_uuid=new_uuid())
    db.session.commit()

    toast = phone.locator("#notice-toast")
    toast.wait_for(state="visible", timeout=12_000)  # the poll runs every 5 s
    assert "材料在門口等候" in toast.inner_text() and "瓷磚 30 箱" in toast.inner_text()
    assert bell.get_attribute("data-unread") == "1" and phone.locator(".bell-count").inner_text() == "1"
    toast.locator("a").click()
    phone.wait_for_url("**/rounds/today#materials")
    assert "瓷磚 30 箱" in phone.locator("#materials").inner_text()
    phone.wait_for_function("() => document.querySelector('a.bell').dataset.unread === '0'")  # opened: read
