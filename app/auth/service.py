"""Sign-in checks, free of Flask requests so they can be tested directly."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import User
from ..refusals import Rejected

PASSWORD_MIN = 8

# Checked against when the user is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (one answer for every failure)."""
    user = session.scalars(sa.select(User).where(sa.func.lower(User.username) == username.strip().lower())).first()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def choose_password(user: User, *, current: str, new: str, repeat: str) -> None:
    """The user's own new password: the current one (the temporary one after a reset) proves it is
    them, the new one is at least PASSWORD_MIN characters, typed twice alike, and not the current one.
    Every other session of theirs ends (User.set_password); the caller signs this one in again."""
    errors: dict[str, list] = {}
    if not user.check_password(current):
        errors["current"] = [_l("This is not your current password.")]
    if len(new) < PASSWORD_MIN:
        errors["new"] = [_l("Use at least %(min)d characters.", min=PASSWORD_MIN)]
    elif new != repeat:
        errors["repeat"] = [_l("The two new passwords differ.")]
    elif new == current:
        errors["new"] = [_l("Choose a password other than the current one.")]
    if errors:
        raise Rejected(next(iter(errors.values()))[0], errors)
    user.set_password(new)
    user.must_change_password = False
