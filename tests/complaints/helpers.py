"""Shared steps of the complaint tests: a complaint registered through the desk's page."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Complaint

from tests.conftest import csrf_from


def register(client, building, **fields):
    """The desk's form, filled in; returns the response (not followed)."""
    page = client.get("/complaints/new").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "channel": "phone", "category": "noise", "complainant_name": "陳大文",
            "complainant_phone": "13800138000", "estate": str(building.estate_id), "building": str(building.id), "room": "1-101",
            "public_area": "0", "place_text": "", "description": "樓上深夜裝修噪音", "expectation": "今晚停止",
            **fields}
    return client.post("/complaints/new", data=data)


def last_complaint() -> Complaint:
    return db.session.scalars(sa.select(Complaint).order_by(Complaint.id.desc())).first()


def post(client, auth, path: str, **data):
    """A form posted with this session's CSRF token."""
    return client.post(path, data={"csrf_token": auth.csrf(), **data})
