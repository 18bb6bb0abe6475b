"""Helpers of the round intake's tests (test_intake.py, test_readings_and_amendments.py)."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Finding
from app.models.base import new_uuid


def start_corridor(api, world, round_uuid=None):
    body = {"uuid": round_uuid or new_uuid(), "kind": "corridor", "estate_id": world["estate"].id,
            "building_id": world["building"].id}
    return body, api.post("/api/v1/rounds", body)


def all_fine(plan) -> list[dict]:
    items = {i["code"]: i for i in plan["items"]}
    return [
        {"uuid": new_uuid(), "checkpoint": c["key"], "item_code": code, "result": "fine"}
        for c in plan["checkpoints"] for code in c["items"] if items[code]["type"] == "check"
    ]


def finding_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Finding))
