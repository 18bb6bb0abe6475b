"""Web Push, checked as a push service checks it: a local receiver (tests/notices/receiver.py) takes
each push, decrypts it with the browser's keys (aes128gcm) and verifies the VAPID token; an expired
subscription (410) is removed; quiet hours and a deactivated account send nothing, and keep the notice."""
from __future__ import annotations

from datetime import datetime, time, timezone

import sqlalchemy as sa
from flask import current_app

from app.decoration import materials
from app.extensions import db
from app.models import Language, Notice, NoticeKind, PushOutcome, PushSubscription
from app.models.base import new_uuid
from app.notices import operations, push

from tests import factories
from tests.notices.receiver import vapid_claims

MORNING = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # 10:00 in Asia/Shanghai
NIGHT = datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc)  # 23:30 in Asia/Shanghai


def commit():
    """Commit, and wait for the pushes it handed to the pool."""
    db.session.commit()
    push.drain(current_app)


def subscribe(person, browser):
    sub = browser.subscription()
    return operations.subscribe(db.session, person, operations.Subscription(sub["endpoint"], sub["keys"]["p256dh"],
                                                                             sub["keys"]["auth"]),
                                push_hosts=("127.0.0.1",))


def gate_request(world, now):
    factories.permit(world["desk"], world["unit"])
    return materials.raise_material_request(db.session, world["gate"], uuid=new_uuid(), unit_id=world["unit"].id,
                                            materials="水泥 20 包", photo_uuid=new_uuid(), now=now)


def test_a_gate_request_is_pushed_to_the_stewards_phone_encrypted_and_signed(app, world, push_service):
    world["amy"].language = Language.EN
    phone = push_service.browser("amy-phone")
    subscribe(world["amy"], phone)
    world.save()
    gate_request(world, MORNING)
    commit()  # the push goes after the commit

    [received] = push_service.received  # amy's phone only: bob's building, zed's estate hear nothing
    assert received.path == "/push/amy-phone"
    assert received.headers["urgency"] == "high" and int(received.headers["ttl"]) > 0
    message = phone.decrypt(received)
    notice = db.session.scalars(sa.select(Notice).where(Notice.user_id == world["amy"].id)).one()
    assert message == {"id": notice.id, "title": "Materials wait at the gate", "body": f"{world['unit'].label}: 水泥 20 包",
                       "url": "/rounds/today#materials", "tag": f"notice-{notice.id}", "unread": 1}
    claims = vapid_claims(received, push.public_key(app))
    assert claims["aud"] == push_service.origin and claims["sub"] == "mailto:ops@xuncha.test"
    assert 0 < claims["exp"] - datetime.now(timezone.utc).timestamp() <= 24 * 3600
    assert notice.push_outcome is PushOutcome.SENT and notice.pushed_at is not None
    assert db.session.scalars(sa.select(Notice.user_id).where(Notice.kind == NoticeKind.GATE_REQUEST)).all() == [
        world["amy"].id]


def test_an_expired_subscription_is_removed_and_the_other_phone_still_gets_it(world, push_service):
    old, new = push_service.browser("old"), push_service.browser("new")
    push_service.answers["/push/old"] = 410
    subscribe(world["amy"], old)
    subscribe(world["amy"], new)
    world.save()
    gate_request(world, MORNING)
    commit()
    assert sorted(r.path for r in push_service.received) == ["/push/new", "/push/old"]
    assert db.session.scalars(sa.select(PushSubscription.endpoint)).all() == [new.endpoint]
    notice = db.session.scalars(sa.select(Notice)).one()
    assert notice.push_outcome is PushOutcome.SENT and "1 gone" in notice.push_detail

    # Its only phone gone: the notice is kept, marked so.
    push_service.answers["/push/new"] = 404
    operations.notify(db.session, world["amy"], NoticeKind.ESCALATION, estate_id=world["estate"].id, link="/", now=MORNING)
    commit()
    latest = db.session.scalars(sa.select(Notice).order_by(Notice.id.desc())).first()
    assert latest.push_outcome is PushOutcome.EXPIRED
    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 0


def test_quiet_hours_keep_the_notice_and_send_no_push(world, push_service):
    subscribe(world["amy"], push_service.browser("amy"))
    operations.set_quiet_hours(db.session, world["amy"], operations.QuietHours(time(22, 0), time(7, 0)))
    world.save()
    gate_request(world, NIGHT)  # 23:30 at the estate
    commit()
    assert push_service.received == []
    notice = db.session.scalars(sa.select(Notice)).one()
    assert notice.push_outcome is PushOutcome.QUIET and notice.read_at is None  # listed, unread

    operations.notify(db.session, world["amy"], NoticeKind.ESCALATION, estate_id=world["estate"].id, link="/",
                      now=MORNING)  # 10:00: pushed
    commit()
    assert len(push_service.received) == 1


def test_a_deactivated_person_is_sent_nothing_and_the_notice_is_kept_undelivered(world, push_service):
    subscribe(world["amy"], push_service.browser("amy"))
    world["amy"].active = False
    world.save()
    gate_request(world, MORNING)
    commit()
    assert push_service.received == []
    notice = db.session.scalars(sa.select(Notice).where(Notice.user_id == world["amy"].id)).one()
    assert notice.push_outcome is PushOutcome.INACTIVE


def test_a_push_service_that_fails_leaves_the_notice_listed_with_its_outcome(world, push_service):
    push_service.answers["/push/amy"] = 500
    subscribe(world["amy"], push_service.browser("amy"))
    world.save()
    gate_request(world, MORNING)
    commit()
    notice = db.session.scalars(sa.select(Notice)).one()
    assert notice.push_outcome is PushOutcome.FAILED and "500" in notice.push_detail
    assert db.session.scalars(sa.select(PushSubscription.failures)).one() == 1


def test_a_rolled_back_event_pushes_nothing(world, push_service):
    subscribe(world["amy"], push_service.browser("amy"))
    world.save()
    gate_request(world, MORNING)
    db.session.rollback()
    commit()
    assert push_service.received == [] and db.session.scalar(sa.select(sa.func.count(Notice.id))) == 0


def test_untried_pushes_are_sent_by_the_tick(world, push_service, runner):
    subscribe(world["amy"], push_service.browser("amy"))
    world.save()
    gate_request(world, datetime(2026, 1, 1, 2, 0, tzinfo=timezone.utc))
    db.session.info.pop("notices_to_push")  # the process stopped between its commit and the push
    commit()
    assert db.session.scalars(sa.select(Notice.push_outcome)).one() is None
    result = runner.invoke(args=["notices-tick"])
    assert result.exit_code == 0, result.output
    assert "1 untried push(es) sent again" in result.output
    assert len(push_service.received) == 1
    db.session.expire_all()
    assert db.session.scalars(sa.select(Notice.push_outcome)).one() is PushOutcome.SENT


def test_a_push_left_untried_into_the_quiet_hours_is_not_sent_late(app, world, push_service):
    subscribe(world["amy"], push_service.browser("amy"))
    operations.set_quiet_hours(db.session, world["amy"], operations.QuietHours(time(22, 0), time(7, 0)))
    world.save()
    gate_request(world, MORNING)
    db.session.info.pop("notices_to_push")  # the process stopped between its commit and the push
    commit()
    assert push.retry_untried(db.session, app, now=NIGHT) == 1
    db.session.commit()
    assert push_service.received == []
    assert db.session.scalars(sa.select(Notice.push_outcome)).one() is PushOutcome.QUIET
