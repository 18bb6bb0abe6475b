"""What the desk does to a finding under review: mark it reviewed (and undo), comment, send its
ticket elsewhere."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import (
    DefectRoute,
    Finding,
    FindingComment,
    Round,
    RoundStatus,
    User,
)
from ..refusals import NotVisible
from ..repairs import tickets
from .queries import COMMENT_MAX, MAX_MARKED_AT_ONCE, ReviewError, _scope


def finding_for(session: Session, user: User, finding_uuid: str) -> Finding:
    """A finding of a completed round the user may review; NotVisible otherwise."""
    finding = session.scalars(
        sa.select(Finding).join(Round, Finding.round_id == Round.id)
        .where(Finding.uuid == finding_uuid, Round.status == RoundStatus.COMPLETED, _scope(user))
    ).first()
    if finding is None:
        raise NotVisible(finding_uuid)
    return finding


def _markable(session: Session, user: User, finding_uuids: list[str]) -> list[Finding]:
    """The findings a mark (or its undo) is about: all of them the user's to review, else nothing
    (NotVisible names the others); at least one, at most MAX_MARKED_AT_ONCE."""
    uuids = list(dict.fromkeys(u.strip() for u in finding_uuids if u and u.strip()))
    if not uuids:
        raise ReviewError(_l("Choose at least one finding to mark reviewed."))
    if len(uuids) > MAX_MARKED_AT_ONCE:
        raise ReviewError(_l("Mark at most %(n)d findings at once.", n=MAX_MARKED_AT_ONCE))
    found = list(session.scalars(
        sa.select(Finding).join(Round, Finding.round_id == Round.id)
        .where(Finding.uuid.in_(uuids), Round.status == RoundStatus.COMPLETED, _scope(user))
    ))
    if len(found) != len(uuids):
        raise NotVisible(sorted(set(uuids) - {f.uuid for f in found}))
    return found


def mark_reviewed(session: Session, user: User, finding_uuids: list[str], now: datetime | None = None) -> int:
    """Mark findings reviewed by `user`; all or none. Returns how many were not reviewed before
    (a finding already reviewed keeps its first reviewer)."""
    found = _markable(session, user, finding_uuids)
    # One UPDATE that skips what is reviewed already: two desks marking at once keep the first mark.
    result = session.execute(
        sa.update(Finding).where(Finding.id.in_([f.id for f in found]), Finding.reviewed_at.is_(None))
        .values(reviewed_at=now or datetime.now(timezone.utc), reviewed_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    for finding in found:
        session.expire(finding, ["reviewed_at", "reviewed_by_id", "reviewed_by"])
    return result.rowcount


def unmark_reviewed(session: Session, user: User, finding_uuids: list[str], at: datetime) -> int:
    """Undo `user`'s own marks made at `at` (one click, one mark time): the findings are not reviewed
    again. A mark by someone else, or made at another moment, stays. Returns how many were undone."""
    found = _markable(session, user, finding_uuids)
    result = session.execute(
        sa.update(Finding).where(Finding.id.in_([f.id for f in found]), Finding.reviewed_by_id == user.id,
                                 Finding.reviewed_at == at)
        .values(reviewed_at=None, reviewed_by_id=None)
        .execution_options(synchronize_session=False)
    )
    for finding in found:
        session.expire(finding, ["reviewed_at", "reviewed_by_id", "reviewed_by"])
    return result.rowcount


def add_comment(session: Session, user: User, finding_uuid: str, text: str,
                now: datetime | None = None) -> FindingComment:
    finding = finding_for(session, user, finding_uuid)
    text = (text or "").strip()
    if not text:
        raise ReviewError(_l("Write the comment first."))
    if len(text) > COMMENT_MAX:
        raise ReviewError(_l("A comment is at most %(n)d characters.", n=COMMENT_MAX))
    comment = FindingComment(by_id=user.id, at=now or datetime.now(timezone.utc), text=text)
    finding.comments.append(comment)
    session.flush()
    return comment


def correct_route(session: Session, user: User, finding_uuid: str, route: str, note: str = "") -> bool:
    """Send the finding's repair ticket to another team (logged on the ticket). Returns False
    when it already went there."""
    finding = finding_for(session, user, finding_uuid)
    ticket = finding.ticket
    if ticket is None:
        raise ReviewError(_l("This finding has no repair ticket to send elsewhere."))
    try:
        target = DefectRoute((route or "").strip())
    except ValueError:
        raise ReviewError(_l("Choose engineering, cleaning or an outside party.")) from None
    if len(note or "") > 1000:
        raise ReviewError(_l("A note is at most %(n)d characters.", n=1000))
    if target is ticket.route:
        return False
    try:
        tickets.change_route(ticket, user, target, (note or "").strip())
    except tickets.TicketError as exc:
        raise ReviewError(exc.message) from None
    return True
