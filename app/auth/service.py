"""Sign-in checks, free of Flask requests so they can be tested directly."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import User

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
