"""What the steward's today page shows of decoration: violations to re-check, material requests to
decide at the gate, and the units being decorated with their flood tests."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import User
from ..rounds.today import steward_tasks
from . import flood_tests, materials, permits, violations


@steward_tasks.connect
def _decoration_tasks(session: Session, *, steward: User) -> dict:
    return {"materials": materials.material_tasks(session, steward),
            "rechecks": violations.recheck_tasks(session, steward),
            "decorating": permits.decorating_units(session, steward),
            "earliest_pass": flood_tests.earliest_pass}
