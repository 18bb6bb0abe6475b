"""Staff accounts: create, change, reset a password, deactivate, reactivate.

Each operation refuses before it writes (a Rejected with per-field messages, a Conflict when the
user changed since the page showed them), so a refusal leaves nothing half-stored. The user's row
(and, with it, every active administrator's, in id order) is locked first, so two administrators
acting at once queue up: the second one's fingerprint no longer matches, and the last active
administrator cannot be deactivated or demoted by two requests that each saw another one.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import AssignmentPeriod, Building, Estate, LeaveCover, Role, User
from ..refusals import Conflict, NotFound, Rejected
from ..steps import content_sha256

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
NAME_MAX = 120
PASSWORD_MIN = 8
PASSWORD_MAX = 256
# A temporary password read out over the phone: no look-alike characters (0/o, 1/l/i).
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class Assignments:
    """Where a user is assigned, as the model keeps it: estates estate-wide, and buildings."""

    estate_ids: frozenset[int] = frozenset()
    building_ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, user: User) -> Assignments:
        return cls(frozenset(e.id for e in user.estates), frozenset(b.id for b in user.buildings))

    @property
    def empty(self) -> bool:
        return not self.estate_ids and not self.building_ids


def temporary_password() -> str:
    """Twelve letters and digits in three groups: read out once, changed at the next sign-in."""
    return "-".join("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(3))


def fingerprint(user: User) -> str:
    """What a page showed of a user, sent back with every change made from it: a change made
    meanwhile by someone else (another administrator, or the user choosing a new password) is
    refused instead of overwritten."""
    return content_sha256({
        "username": user.username, "display_name": user.display_name, "role": user.role.value,
        "active": user.active, "estates": sorted(e.id for e in user.estates),
        "buildings": sorted(b.id for b in user.buildings),
        "password": content_sha256({"hash": user.password_hash}),
    })


def today_for(user: User, now: datetime) -> date:
    """The earliest local date among the user's estates (UTC's when they have none): a cover that
    ended before it has ended everywhere."""
    estates = {*user.estates, *(b.estate for b in user.buildings)}
    return min((now.astimezone(ZoneInfo(e.timezone)).date() for e in estates), default=now.date())


def open_covers(session: Session, user: User, now: datetime) -> list[LeaveCover]:
    """The user's covers for leave, either side, not ended and not over."""
    return list(session.scalars(
        sa.select(LeaveCover).where(sa.or_(LeaveCover.cover_id == user.id, LeaveCover.covered_id == user.id),
                                    LeaveCover.ended_at.is_(None), LeaveCover.last_day >= today_for(user, now))
        .order_by(LeaveCover.first_day, LeaveCover.id)))


def _locked(session: Session, user_id: int) -> User:
    """The user, read afresh and locked together with every active administrator, in id order (two
    administrators acting on each other queue up instead of deadlocking)."""
    rows = session.scalars(
        sa.select(User).where(sa.or_(User.id == user_id, sa.and_(User.role == Role.ADMIN, User.active.is_(True))))
        .order_by(User.id).with_for_update().execution_options(populate_existing=True)).all()
    user = next((u for u in rows if u.id == user_id), None)
    if user is None:
        raise NotFound(_l("This user does not exist."))
    return user


def _check_fingerprint(user: User, seen: str | None) -> None:
    if not seen or seen != fingerprint(user):
        raise Conflict(_l("%(name)s was changed by someone else while this page was open. Nothing was saved: "
                          "here is how it stands now.", name=user.display_name))


def _keep_an_administrator(session: Session, user: User) -> None:
    """Refuse to leave the company without an active administrator (the rows are locked by _locked)."""
    others = session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.active.is_(True), User.id != user.id))
    if not others:
        raise Conflict(_l("%(name)s is the last active administrator. Make someone else an administrator first.",
                          name=user.display_name))


def _no_open_covers(session: Session, user: User, now: datetime, message) -> None:  # noqa: ANN001 - a lazy string
    covers = open_covers(session, user, now)
    if covers:
        c = covers[0]
        raise Conflict(message % {"cover": c.cover.display_name, "covered": c.covered.display_name,
                                  "first": c.first_day.isoformat(), "last": c.last_day.isoformat()})


def _clean_name(display_name: str, errors: dict) -> str:
    name = (display_name or "").strip()
    if not name:
        errors.setdefault("display_name", []).append(_l("Enter the name shown in the app."))
    elif len(name) > NAME_MAX:
        errors.setdefault("display_name", []).append(_l("At most %(max)d characters.", max=NAME_MAX))
    return name


def _places(session: Session, role: Role, wanted: Assignments, held: Assignments,
            errors: dict) -> tuple[list[Estate], list[Building]]:
    """The estates and buildings of an assignment, checked: they exist, a newly given one is not
    retired, and an administrator has none (company-wide)."""
    if role is Role.ADMIN and not wanted.empty:
        errors.setdefault("assignments", []).append(
            _l("An administrator works company-wide: leave every estate and building unticked."))
        return [], []
    estates = list(session.scalars(sa.select(Estate).where(Estate.id.in_(sorted(wanted.estate_ids)))
                                   .order_by(Estate.id))) if wanted.estate_ids else []
    buildings = list(session.scalars(sa.select(Building).where(Building.id.in_(sorted(wanted.building_ids)))
                                     .order_by(Building.id))) if wanted.building_ids else []
    if len(estates) != len(wanted.estate_ids) or len(buildings) != len(wanted.building_ids):
        errors.setdefault("assignments", []).append(
            _l("An estate or building chosen no longer exists. Reload the page and choose again."))
        return [], []
    for estate in estates:
        if estate.retired and estate.id not in held.estate_ids:
            errors.setdefault(f"estate-{estate.id}", []).append(
                _l("%(estate)s is retired: nobody can be newly assigned to it.", estate=estate.name))
    for building in buildings:
        if (building.retired or building.estate.retired) and building.id not in held.building_ids:
            errors.setdefault(f"estate-{building.estate_id}", []).append(
                _l("%(building)s is retired: nobody can be newly assigned to it.", building=building.name))
    return estates, buildings


def _keys(estates: list[Estate], buildings: list[Building]) -> set[tuple[int, int | None]]:
    return {(e.id, None) for e in estates} | {(b.estate_id, b.id) for b in buildings}


def _assign(session: Session, user: User, estates: list[Estate], buildings: list[Building], now: datetime) -> None:
    """Give the user these estates and buildings, and write the change into the assignment history."""
    before = _keys(user.estates, user.buildings) if user.id is not None and user.active else set()
    user.estates, user.buildings = estates, buildings
    _write_history(session, user, before, _keys(estates, buildings) if user.active else set(), now)


def _write_history(session: Session, user: User, before: set, after: set, now: datetime) -> None:
    """The assignment history of a change from `before` to `after` (sets of (estate, building or
    None)): what was given starts now, what was taken away ends now (held since before the history
    if it had no row yet). A deactivated user holds nothing, in the history, until reactivated."""
    if before == after:
        return
    open_rows = {} if user.id is None else {
        (r.estate_id, r.building_id): r for r in session.scalars(
            sa.select(AssignmentPeriod).where(AssignmentPeriod.user_id == user.id, AssignmentPeriod.ended_at.is_(None)))}
    for estate_id, building_id in before - after:
        row = open_rows.get((estate_id, building_id))
        if row is not None:
            row.ended_at = now
        else:
            session.add(AssignmentPeriod(user=user, estate_id=estate_id, building_id=building_id, started_at=None,
                                         ended_at=now))
    for estate_id, building_id in after - before:
        session.add(AssignmentPeriod(user=user, estate_id=estate_id, building_id=building_id, started_at=now))


def _username(session: Session, username: str, errors: dict) -> str:
    name = (username or "").strip()
    if not USERNAME.match(name):
        errors.setdefault("username", []).append(
            _l("A username is 2 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit."))
    elif session.scalar(sa.select(User.id).where(sa.func.lower(User.username) == name.lower())):
        errors.setdefault("username", []).append(_l("The username %(name)s is taken.", name=name))
    return name


def _refuse_if(errors: dict) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise Rejected(first if len(errors) == 1 else _l("Some fields are missing or wrong."), errors)


def create_user(session: Session, by: User | None, *, username: str, display_name: str, role: Role,
                assignments: Assignments = Assignments(), password: str | None = None,
                now: datetime | None = None) -> tuple[User, str | None]:
    """A new user with this role and assignment. Without `password` (the administrator's page), a
    temporary one is made and returned once: the user chooses their own at the first sign-in."""
    now = now or datetime.now(timezone.utc)
    errors: dict = {}
    name = _username(session, username, errors)
    display = _clean_name(display_name, errors)
    if password is not None and not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        errors.setdefault("password", []).append(
            _l("A password has %(min)d to %(max)d characters.", min=PASSWORD_MIN, max=PASSWORD_MAX))
    estates, buildings = _places(session, role, assignments, Assignments(), errors)
    _refuse_if(errors)
    temporary = temporary_password() if password is None else None
    user = User(username=name, display_name=display, role=role, active=True)
    user.set_password(temporary or password)
    user.must_change_password = temporary is not None
    session.add(user)
    _assign(session, user, estates, buildings, now)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same username created at the same moment by another request
        raise Conflict(_l("The username %(name)s is taken.", name=name),
                       {"username": [_l("The username %(name)s is taken.", name=name)]}) from None
    return user, temporary


def update_user(session: Session, by: User | None, user_id: int, *, seen: str | None, display_name: str, role: Role,
                assignments: Assignments, now: datetime | None = None) -> User:
    """Change a user's name, role and assignment, as the page that showed them (`seen`) asks."""
    now = now or datetime.now(timezone.utc)
    user = _locked(session, user_id)
    _check_fingerprint(user, seen)
    errors: dict = {}
    display = _clean_name(display_name, errors)
    estates, buildings = _places(session, role, assignments, Assignments.of(user), errors)
    _refuse_if(errors)
    if user.role is Role.ADMIN and role is not Role.ADMIN and user.active:
        _keep_an_administrator(session, user)
    if user.role is Role.STEWARD and role is not Role.STEWARD:
        _no_open_covers(session, user, now, _l(
            "%(cover)s covers %(covered)s from %(first)s to %(last)s. End that cover first: a cover is between stewards."))
    user.display_name, user.role = display, role
    _assign(session, user, estates, buildings, now)
    session.flush()
    return user


def reset_password(session: Session, by: User | None, user_id: int, *, seen: str | None,
                   now: datetime | None = None) -> tuple[User, str]:
    """A temporary password, returned once; every session of the user ends, and they choose a new
    password at their next sign-in."""
    user = _locked(session, user_id)
    _check_fingerprint(user, seen)
    temporary = temporary_password()
    user.set_password(temporary)  # ends every session
    user.must_change_password = True
    session.flush()
    return user, temporary


def deactivate(session: Session, by: User | None, user_id: int, *, seen: str | None,
               now: datetime | None = None) -> User:
    """The user can no longer sign in, and every session of theirs ends at once."""
    now = now or datetime.now(timezone.utc)
    user = _locked(session, user_id)
    _check_fingerprint(user, seen)
    if not user.active:
        raise Conflict(_l("%(name)s is already deactivated.", name=user.display_name))
    if user.role is Role.ADMIN:
        _keep_an_administrator(session, user)
    _no_open_covers(session, user, now, _l(
        "%(cover)s covers %(covered)s from %(first)s to %(last)s. End that cover first."))
    _write_history(session, user, _keys(user.estates, user.buildings), set(), now)
    user.active = False
    user.end_sessions()
    session.flush()
    return user


def reactivate(session: Session, by: User | None, user_id: int, *, seen: str | None,
               now: datetime | None = None) -> User:
    """The user can sign in again (with the password they had, or a reset one)."""
    now = now or datetime.now(timezone.utc)
    user = _locked(session, user_id)
    _check_fingerprint(user, seen)
    if user.active:
        raise Conflict(_l("%(name)s is already active.", name=user.display_name))
    user.active = True
    _write_history(session, user, set(), _keys(user.estates, user.buildings), now)
    session.flush()
    return user


def staff_list(session: Session, q: str = "", role: Role | None = None, inactive: bool = False) -> list[User]:
    """Users by name, filtered by a search in username or name, a role, active or not."""
    query = sa.select(User).where(User.active.is_(not inactive))
    if role is not None:
        query = query.where(User.role == role)
    if q:
        query = query.where(sa.or_(sa.func.lower(User.username).contains(q.lower(), autoescape=True),
                                   sa.func.lower(User.display_name).contains(q.lower(), autoescape=True)))
    return list(session.scalars(query.order_by(User.display_name, User.username).limit(500)))


def user_for(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_l("This user does not exist."))
    return user
