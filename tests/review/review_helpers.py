"""Helpers of the desk review's tests: rounds walked with one finding per given result."""
from __future__ import annotations

import uuid as uuidlib
from datetime import date, datetime, timezone

from app import review
from app.extensions import db
from app.models import Finding, FindingResult, RoundKind

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


def page_uuids(user, flt=review.ReviewFilter(), **kw):
    return [f.uuid for f in review.review_page(db.session, user, flt, **kw).findings]


def uuids(findings):
    return [f.uuid for f in findings]
