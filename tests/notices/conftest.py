"""The notices' world: an estate of two buildings, a second estate, and people of every role that
events concern; and a push service of our own (receiver.py) for the push tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.models import Role, UnitState, VacancyReason
from app.notices import push

from tests import factories
from tests.notices.receiver import PushService


@pytest.fixture
def world(app):
    w = factories.build_world(buildings={"b1": "1棟", "b2": "2棟"}, other=True, people={
        "amy": (Role.STEWARD, "b1"), "bob": (Role.STEWARD, "b2"), "zed": (Role.STEWARD, "other"),
        "desk": (Role.DESK, "estate"), "boss": (Role.SUPERVISOR, "estate"), "far_boss": (Role.SUPERVISOR, "other"),
        "gate": (Role.GATE, "estate"), "eng": (Role.ENGINEERING, "estate"), "far_eng": (Role.ENGINEERING, "other")})
    w.add_unit("unit", "b1", "1-601", state=UnitState.VACANT, vacancy_reason=VacancyReason.UNSOLD)
    return w


@pytest.fixture
def push_service(app):
    """A push service on 127.0.0.1 that the app may send to, and the app's VAPID keys made."""
    push.make_keys(Path(app.config["VAPID_PRIVATE_KEY_FILE"]))
    app.config.update(PUSH_SERVICE_HOSTS=("127.0.0.1",), VAPID_SUBJECT="mailto:ops@xuncha.test")
    with PushService() as service:
        yield service
