"""Who may use which route.

Every view declares its audience with `@roles(...)` or `@public`. The app refuses
to start if a route declares neither, so no route can slip past the check, and
one `before_request` hook enforces the declaration for every request.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import sqlalchemy as sa
from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session

from .models import Estate, Role, Unit, User

F = TypeVar("F", bound=Callable)
PUBLIC = "public"
ALL_ROLES = frozenset(Role)
# The role groups, each named for a duty; the pages and operations ask these, not lists of their own.
# The office: the front desk (前台/客服助理) and the supervisors (客服主管).
OFFICE = (Role.DESK, Role.SUPERVISOR)
# Who works on repair tickets: the office and engineering.
TICKET_WORKERS = (*OFFICE, Role.ENGINEERING)
# Who reads decoration records: stewards, the office and the gate (never engineering).
DECORATION_READERS = (Role.STEWARD, *OFFICE, Role.GATE)
# The decoration pages: the office and the stewards (the gate has its own pages).
DECORATION_PAGES = (*OFFICE, Role.STEWARD)
# The gate's pages: the security gate (保安門崗), and the office that settles its requests.
GATE_PAGES = (Role.GATE, *OFFICE)
# The owner archive's unit pages: everyone on the estate's staff but the security gate (檔案保密).
ARCHIVE_ROLES = ALL_ROLES - {Role.GATE}
# Endpoints that Flask or extensions add themselves.
BUILTIN_PUBLIC_ENDPOINTS = {"static", "api-docs.openapi_json"}


def roles(*allowed: Role) -> Callable[[F], F]:
    """Allow signed-in users with one of these roles."""
    if not allowed:
        raise ValueError("name at least one role, or use @public")

    def mark(view: F) -> F:
        view.allowed_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    """Allow anyone, signed in or not."""
    view.allowed_roles = PUBLIC  # type: ignore[attr-defined]
    return view


def allowed_roles(app: Flask, endpoint: str) -> frozenset[Role] | str | None:
    if endpoint in BUILTIN_PUBLIC_ENDPOINTS:
        return PUBLIC
    view = app.view_functions.get(endpoint)
    # MethodView classes carry the mark on the class.
    return getattr(view, "allowed_roles", None) or getattr(getattr(view, "view_class", None), "allowed_roles", None)


def check_every_route_declared(app: Flask) -> None:
    undeclared = sorted(r.endpoint for r in app.url_map.iter_rules() if allowed_roles(app, r.endpoint) is None)
    if undeclared:
        raise RuntimeError(f"routes without @roles or @public: {', '.join(undeclared)}")


def wants_json() -> bool:
    return request.path.startswith("/api/")


def enforce_route_roles() -> None:
    """before_request: 401/redirect for anonymous users, 403 for the wrong role."""
    if request.endpoint is None:  # 404 / 405: let Flask answer
        return None
    allowed = allowed_roles(current_app, request.endpoint)
    if allowed == PUBLIC:
        return None
    if not current_user.is_authenticated:
        if wants_json():
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
    if allowed is None or current_user.role not in allowed:
        abort(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request(enforce_route_roles)


# Object-level scope: a user sees only the estates and buildings assigned to them.


def estates_of(session: Session, user: User) -> list[Estate]:
    """The estates a user is assigned to, directly or through a building."""
    ids = user.visible_estate_ids
    if not ids:
        return []
    return list(session.scalars(sa.select(Estate).where(Estate.id.in_(ids)).order_by(Estate.id)))


def whole_estates_of(session: Session, user: User) -> list[Estate]:
    """The estates of which the user covers every building: what estate-wide summaries and settings
    are for (not a user of some of its buildings)."""
    return [e for e in estates_of(session, user) if e.id in user.whole_estate_ids]


def require_unit_visible(user: User, unit: Unit | None) -> Unit:
    """404 (not 403) for a unit outside the user's scope: its existence is not theirs to know."""
    if unit is None or not user.can_see_unit(unit):
        abort(404)
    return unit


CONTACT_ROLES = frozenset(OFFICE)


def may_read_contacts(user: User) -> bool:
    """Owner phones and ID numbers are confidential (檔案保密): desk and supervisors only."""
    return user.is_authenticated and user.role in CONTACT_ROLES
