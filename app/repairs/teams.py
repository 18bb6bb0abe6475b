"""An estate's teams (工程部, 保潔部, 綠化部, outside parties such as the elevator company), with the
number to call: repair tickets are dispatched to them. Kept by the administrator (every estate) and
a supervisor of the whole estate; a team with tickets is never deleted, only set aside (inactive)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import Estate, Team, TeamKind
from ..refusals import Rejected

NAME_MAX = 60
PHONE_MAX = 32
PHONE = re.compile(r"^[0-9+()\-\s]*$")


class TeamError(Rejected):
    """A team that cannot be stored as given; `field` names the form field at fault."""

    def __init__(self, message, field: str = "name") -> None:  # noqa: ANN001
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TeamInput:
    name: str
    kind: str
    phone: str = ""
    active: bool = True


def _checked(session: Session, estate: Estate, data: TeamInput, team: Team | None = None) -> tuple[str, TeamKind, str]:
    name = " ".join((data.name or "").split())
    if not name:
        raise TeamError(_l("Give the team a name, e.g. 工程部 or the elevator company's name."))
    if len(name) > NAME_MAX:
        raise TeamError(_l("A team's name is at most %(n)d characters.", n=NAME_MAX))
    try:
        kind = TeamKind(data.kind)
    except ValueError:
        raise TeamError(_l("Choose what the team does from the list."), "kind") from None
    phone = " ".join((data.phone or "").split())
    if len(phone) > PHONE_MAX or not PHONE.match(phone):
        raise TeamError(_l("A phone number has digits, spaces, +, - and brackets only."), "phone")
    clash = session.scalar(sa.select(Team.id).where(Team.estate_id == estate.id, Team.name == name,
                                                    Team.id != (team.id if team else -1)))
    if clash is not None:
        raise TeamError(_l("This estate already has a team of that name."))
    return name, kind, phone


def add_team(session: Session, estate: Estate, data: TeamInput) -> Team:
    name, kind, phone = _checked(session, estate, data)
    team = Team(estate_id=estate.id, name=name, kind=kind, phone=phone, active=data.active)
    session.add(team)
    session.flush()
    return team


def update_team(session: Session, team: Team, data: TeamInput) -> Team:
    """Change a team's name, kind, phone or whether it takes tickets (its tickets keep it)."""
    name, kind, phone = _checked(session, team.estate, data, team)
    team.name, team.kind, team.phone, team.active = name, kind, phone, data.active
    session.flush()
    return team
