"""What the staff pages post, read into the operations' input with every problem collected.

The assignment is asked per estate: not assigned, the whole estate (every building and the estate's
own places), or some buildings (and, if ticked, the estate's own places too: the facility round,
roads and greenery, the public meters). That is the model's own shape (User.estates estate-wide,
User.buildings) in words an administrator reads at a glance.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from ..models import Estate, Role, User
from ..web import parse_day
from .accounts import Assignments
from .covers import CoverRequest

NONE, WHOLE, SOME = "none", "whole", "some"


@dataclass
class AssignmentChoice:
    """The assignment part of the user form as shown: per estate none/whole/some, the estates whose
    own places go with some buildings, and the buildings ticked."""

    per_estate: dict[int, str] = field(default_factory=dict)
    own: set[int] = field(default_factory=set)
    ticked: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, user: User | None) -> AssignmentChoice:
        choice = cls()
        if user is None:
            return choice
        with_buildings = {b.estate_id for b in user.buildings}
        choice.ticked = {b.id for b in user.buildings}
        for estate_id in with_buildings:
            choice.per_estate[estate_id] = SOME
        for estate in user.estates:
            if estate.id in with_buildings:
                choice.own.add(estate.id)
            else:
                choice.per_estate[estate.id] = WHOLE
        return choice

    def of_estate(self, estate_id: int) -> str:
        return self.per_estate.get(estate_id, NONE)


def read_assignments(form: MultiDict, estates: list[Estate]) -> tuple[AssignmentChoice, Assignments, dict]:
    """The posted assignment: what to show again, what to store, and per estate what is wrong."""
    choice, errors = AssignmentChoice(), {}
    posted = set()
    for raw in form.getlist("building"):
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            posted.add(int(raw))
        else:
            errors.setdefault("assignments", []).append(_l("A building chosen is not one of this list."))
    estate_ids, building_ids = set(), set()
    known: set[int] = set()
    for estate in estates:
        mine = {b.id for b in estate.buildings} & posted
        known |= {b.id for b in estate.buildings}
        how = form.get(f"estate-{estate.id}", NONE)
        if how not in (NONE, WHOLE, SOME):
            how = NONE
        if how == NONE and mine:
            how = SOME  # buildings ticked say it
        choice.per_estate[estate.id] = how
        choice.ticked |= mine
        if form.get(f"own-{estate.id}") == "1":
            choice.own.add(estate.id)
        if how == WHOLE:
            if mine:
                errors.setdefault(f"estate-{estate.id}", []).append(_l(
                    "%(estate)s: choose the whole estate or some buildings, not both.", estate=estate.name))
            estate_ids.add(estate.id)
        elif how == SOME:
            if not mine:
                errors.setdefault(f"estate-{estate.id}", []).append(_l(
                    "%(estate)s: tick at least one building, or choose Not assigned.", estate=estate.name))
            building_ids |= mine
            if estate.id in choice.own:
                estate_ids.add(estate.id)
    if posted - known:
        errors.setdefault("assignments", []).append(_l("A building chosen is not one of this list."))
    return choice, Assignments(frozenset(estate_ids), frozenset(building_ids)), errors


def read_role(form: Mapping[str, str], errors: dict) -> Role | None:
    raw = form.get("role", "")
    try:
        return Role(raw)
    except ValueError:
        errors.setdefault("role", []).append(_l("Choose a role."))
        return None


def _user_id(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _day(raw: str | None) -> date | None:
    return parse_day(raw)


def read_cover(form: Mapping[str, str]) -> CoverRequest:
    return CoverRequest(cover_id=_user_id(form.get("cover")), covered_id=_user_id(form.get("covered")),
                        first_day=_day(form.get("first_day")), last_day=_day(form.get("last_day")))
