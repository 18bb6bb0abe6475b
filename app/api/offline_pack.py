"""What a steward's phone keeps to work with no signal: their places, today's standing, a ready
plan for every round they may start, so a round can be started and walked offline, the
repaired public tickets waiting for their check on site, and their decoration work: re-checks
due, units being decorated with their flood tests, material entry requests to decide, and the complaints
to investigate on site."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..complaints import queries as complaints
from ..decoration import materials, permits, violations
from ..models import Estate, Round, RoundKind, User
from ..repairs import verification
from ..rounds import schedule
from ..rounds.checklists import items_of, latest_version
from ..rounds.checkpoints import code_digests, scans_required
from ..rounds.plan import Plan, build_plan, checkpoint_documents


def _checklist_key(version) -> str:  # noqa: ANN001
    return f"{version.kind.value}:{version.version}"


ZH_HANS, EN = "zh_Hans", "en"


def _estates_on(session: Session, steward: User, at: datetime) -> list[Estate]:
    """The estates the steward works in at `at`: their own, and those of a colleague they cover."""
    ids = steward.estate_ids_on(at)
    return list(session.scalars(sa.select(Estate).where(Estate.id.in_(ids)).order_by(Estate.id))) if ids else []


def offline_pack(session: Session, steward: User, at: datetime | None = None) -> dict:
    at = at or datetime.now(timezone.utc)
    versions = {}  # the estate's own or the company's, per estate and kind
    targets, plans = [], {}
    digests: dict[int, dict] = {}  # per estate: its checkpoint codes' digests
    for estate in _estates_on(session, steward, at):
        for kind in RoundKind:
            versions[estate.id, kind] = latest_version(session, kind, estate.id)
        day = schedule.local_date(estate, at)
        for standing in schedule.standing(session, estate, schedule.targets_for(session, steward, estate, day), day,
                                         steward):
            t = standing.target
            key = "/".join(str(x) for x in (t.kind.value, t.estate.id, t.building.id if t.building else "",
                                            t.unit.id if t.unit else ""))
            version = versions[t.estate.id, t.kind]
            # The plan a round started now would walk (an unsaved Round: nothing is written).
            draft = Round(kind=t.kind, estate=t.estate, estate_id=t.estate.id, building=t.building,
                          building_id=t.building.id if t.building else None, unit=t.unit,
                          unit_id=t.unit.id if t.unit else None, checklist_version=version)
            plan: Plan = build_plan(session, draft)
            if t.estate.id not in digests:
                digests[t.estate.id] = code_digests(session, t.estate.id)
            plans[key] = {
                "checklist": _checklist_key(version),
                "place": t.unit.label if t.unit else t.building.name if t.building else t.estate.name,
                "checkpoints": checkpoint_documents(plan, digests[t.estate.id]),
                "scans_required": scans_required(session, t.estate.id, t.kind),
            }
            targets.append({
                "key": key, "kind": t.kind.value, "estate_id": t.estate.id,
                "building_id": t.building.id if t.building else None, "unit_id": t.unit.id if t.unit else None,
                "place": plans[key]["place"], "status": standing.status.value,
                "due_by": standing.occurrence.due_by,
                "round_in_progress": standing.round_in_progress.uuid if standing.round_in_progress else None,
            })
    checklists = {
        _checklist_key(v): {"kind": v.kind.value, "version": v.version,
                            "title": {"zh_Hant": v.title_zh_hant, "zh_Hans": v.title(ZH_HANS), "en": v.title(EN)},
                            "items": items_of(session, v)}
        for v in versions.values() if v is not None
    }
    return {"generated_at": at, "user_id": steward.id, "targets": targets, "plans": plans, "checklists": checklists,
            "verifications": verification.tasks_for(session, steward, at),
            "rechecks": violations.recheck_tasks(session, steward, at),
            "decorating_units": permits.decorating_units(session, steward, at),
            "materials": materials.material_tasks(session, steward, at),
            "investigations": complaints.investigations_for(session, steward)}
