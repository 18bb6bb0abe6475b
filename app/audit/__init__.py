"""The audit log (稽核記錄): every state change of the audited models, recorded by session events.

Who (the signed-in user of the request, or nobody for the command line and the system), when
(the server's clock), what (table, id, UUID or number), and the changed columns' values before
and after. The entries are written in the same transaction as the change, so a change rolled
back leaves no entry and an entry never describes a change that did not happen.

How: `after_flush` still sees the flush's new, dirty and deleted objects and their attribute
history, and by then new objects have their ids; the entries go in with one Core INSERT per
flush (never through the session, so recording cannot recurse). ORM bulk UPDATE/DELETE
statements (the desk marking findings reviewed) are caught by `do_orm_execute`. Core inserts
bypass both: a round's findings are bulk-inserted by intake.complete_round, so the round's own
change to "completed" is recorded once, with how many findings it stored.

Not audited: the logs that are histories themselves (TicketEvent, DecorationEvent, AssignmentPeriod), the ticket
number counter, checklists (versioned data from files), places other than estates and units,
and AuditEntry itself. Secrets are never copied: a password hash shows only that it changed,
an owner's ID number is kept masked.

Nothing edits or deletes an entry: no route writes here (tests/audit/test_audit.py walks the URL map),
and on SQLite triggers refuse UPDATE and DELETE on the table.
"""
from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.util import identity_key

from ..models import (
    AuditEntry,
    DecorationPermit,
    Estate,
    Finding,
    FindingAmendment,
    FindingComment,
    FloodTest,
    LeaveCover,
    MaterialRequest,
    OwnerContact,
    Photo,
    RepairTicket,
    Round,
    RoundStatus,
    ScheduleRule,
    Team,
    TicketClock,
    TicketVerification,
    Unit,
    User,
    Violation,
    ViolationRecheck,
)

CREATED, UPDATED, DELETED, COMPLETED, REVEALED = "created", "updated", "deleted", "completed", "revealed"
IMPORTED = "imported"  # a steward's unsynced-work file, by the desk (app/workfile)
ACTIONS = (CREATED, UPDATED, DELETED, COMPLETED, REVEALED, IMPORTED)
SUMMARY_MAX = 500
_TABLE = AuditEntry.__table__

# How to find the estate of a parent row: (table, SQL giving estate_id for :id).
_ESTATE_SQL = {
    "round": sa.text("SELECT estate_id FROM round WHERE id = :id"),
    "repair_ticket": sa.text("SELECT estate_id FROM repair_ticket WHERE id = :id"),
    "violation": sa.text("SELECT estate_id FROM violation WHERE id = :id"),
    "decoration_permit": sa.text("SELECT estate_id FROM decoration_permit WHERE id = :id"),
    "building": sa.text("SELECT estate_id FROM building WHERE id = :id"),
    "finding": sa.text("SELECT r.estate_id FROM finding f JOIN round r ON r.id = f.round_id WHERE f.id = :id"),
    "unit": sa.text("SELECT b.estate_id FROM unit u JOIN building b ON b.id = u.building_id WHERE u.id = :id"),
    # A photo named by its finding's or its record's UUID, before or after that arrived.
    "finding_uuid": sa.text("SELECT r.estate_id FROM finding f JOIN round r ON r.id = f.round_id WHERE f.uuid = :id"),
    "flood_test_uuid": sa.text("SELECT p.estate_id FROM flood_test t JOIN decoration_permit p ON p.id = t.permit_id "
                               "WHERE t.uuid = :id"),
    # A user's estate when they work in one only (directly or through buildings), else none.
    "user": sa.text(
        "SELECT MIN(x.estate_id) FROM (SELECT estate_id FROM user_estate WHERE user_id = :id UNION "
        "SELECT b.estate_id FROM user_building ub JOIN building b ON b.id = ub.building_id "
        "WHERE ub.user_id = :id) x HAVING COUNT(*) = 1"
    ),
}
# Parents whose own estate_id (never changed once set) may be read from the session instead.
_IN_MEMORY = {"round": Round, "repair_ticket": RepairTicket, "violation": Violation,
              "decoration_permit": DecorationPermit}
_USER_ESTATES = sa.text(
    "SELECT estate_id FROM user_estate WHERE user_id = :id UNION "
    "SELECT b.estate_id FROM user_building ub JOIN building b ON b.id = ub.building_id WHERE ub.user_id = :id"
)


@dataclasses.dataclass(frozen=True)
class Spec:
    """How one audited model is recorded."""

    # (own column, parent table) pairs tried in order to find the estate; "estate_id" is direct.
    estate_via: tuple[tuple[str, str], ...] = (("estate_id", ""),)
    key: str | None = None  # the attribute naming the object to people: uuid, number, username
    redact: dict[str, Callable[[Any, str], Any]] = dataclasses.field(default_factory=dict)
    collections: tuple[str, ...] = ()  # many-to-many collections recorded as lists of ids
    # Columns whose change the summary tells in words instead of values (a counter means nothing to a reader).
    told_as: dict[str, str] = dataclasses.field(default_factory=dict)


def _secret(value: Any, side: str) -> str:
    """A password hash: only that there is one, and that it changed."""
    if not value:
        return ""
    return {"before": "(old)", "after": "(changed)"}.get(side, "(set)")


def _mask(value: Any, _side: str) -> Any:
    return OwnerContact(id_number=value).masked_id_number if value else value


AUDITED: dict[type, Spec] = {
    Round: Spec(key="uuid"),
    Finding: Spec(estate_via=(("round_id", "round"),), key="uuid"),
    FindingAmendment: Spec(estate_via=(("finding_id", "finding"),), key="uuid"),
    FindingComment: Spec(estate_via=(("finding_id", "finding"),)),
    # A photo not linked yet (it came before its finding) has the estate of its finding or record, else
    # the estate of whoever sent it when they work in one.
    Photo: Spec(estate_via=(("finding_id", "finding"), ("ticket_id", "repair_ticket"), ("finding_uuid", "finding_uuid"),
                            ("record_uuid", "flood_test_uuid"), ("uploaded_by_id", "user")), key="uuid"),
    RepairTicket: Spec(key="number"),
    TicketVerification: Spec(estate_via=(("ticket_id", "repair_ticket"),), key="uuid"),
    TicketClock: Spec(),
    Team: Spec(key="name"),
    DecorationPermit: Spec(key="number"),
    Violation: Spec(key="notice_number"),
    ViolationRecheck: Spec(estate_via=(("violation_id", "violation"),), key="uuid"),
    FloodTest: Spec(estate_via=(("permit_id", "decoration_permit"),), key="uuid"),
    MaterialRequest: Spec(key="uuid"),
    ScheduleRule: Spec(),
    Estate: Spec(estate_via=(("id", "self"),), key="code"),
    Unit: Spec(estate_via=(("building_id", "building"),), key="room_number"),
    OwnerContact: Spec(estate_via=(("unit_id", "unit"),), redact={"id_number": _mask}),
    # A cover for leave belongs to the estate of the colleague covered (if they work in one).
    LeaveCover: Spec(estate_via=(("covered_id", "user"),)),
    User: Spec(estate_via=(), key="username", redact={"password_hash": _secret}, collections=("estates", "buildings"),
               told_as={"session_version": "signed out on every device"}),
}
ENTITIES = tuple(sorted(cls.__tablename__ for cls in AUDITED))
_SPEC_OF_TABLE = {cls.__tablename__: spec for cls, spec in AUDITED.items()}


def plain(value: Any) -> Any:
    """A value as JSON can hold it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return f"({len(value)} bytes)"
    return str(value)


# Who and from where.


def _actor() -> tuple[int | None, str | None]:
    """The signed-in user of this request (already loaded by the access check), else nobody."""
    if not has_request_context():
        return None, None
    user = g.get("_login_user")
    if not isinstance(user, User):
        return None, None
    state = sa.inspect(user)
    user_id = state.identity[0] if state.identity else None
    role = state.dict.get("role")
    if role is None and user_id is not None and not state.detached:
        role = user.role
    return user_id, plain(role)


def _request_info() -> dict:
    if not has_request_context():
        return {"method": None, "path": None, "remote_addr": None}
    return {"method": request.method[:8], "path": request.path[:255], "remote_addr": (request.remote_addr or "")[:64]}


class _Context:
    """What one flush's entries share: who, where from, when, and the estates already looked up."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn = session.connection()
        self.user_id, self.role = _actor()
        self.request = _request_info()
        self.at = datetime.now(timezone.utc)
        self.estates: dict[tuple[str, int], int | None] = {}
        self.rows: list[dict] = []

    def estate_of_parent(self, table: str, parent_id: int) -> int | None:
        key = (table, parent_id)
        if key not in self.estates:
            estate_id = self._in_memory(table, parent_id)
            self.estates[key] = estate_id if estate_id is not None else \
                self.conn.execute(_ESTATE_SQL[table], {"id": parent_id}).scalar()
        return self.estates[key]

    def _in_memory(self, table: str, parent_id: int) -> int | None:
        """The parent's estate from an object already in the session (no query), if it is there."""
        if table == "finding":
            finding = self.session.identity_map.get(identity_key(Finding, parent_id))
            round_id = finding is not None and sa.inspect(finding).dict.get("round_id")
            return self._in_memory("round", round_id) if round_id else None
        cls = _IN_MEMORY.get(table)
        parent = cls is not None and self.session.identity_map.get(identity_key(cls, parent_id))
        return sa.inspect(parent).dict.get("estate_id") if parent else None

    def estate_of(self, obj: Any, spec: Spec, values: dict) -> int | None:
        if isinstance(obj, User):
            user_id = values.get("id")
            if user_id is None:
                return None
            ids = {e for e in self.conn.execute(_USER_ESTATES, {"id": user_id}).scalars()}
            return ids.pop() if len(ids) == 1 else None  # several: found through the user (see scope)
        for column, parent in spec.estate_via:
            value = values.get(column)
            if value is None:
                continue
            if parent in ("", "self"):
                return value
            estate = self.estate_of_parent(parent, value)
            if estate is not None:
                return estate
        return None

    def add(self, *, action: str, entity: str, entity_id: int | None, entity_key: Any, estate_id: int | None,
            summary: str, before: dict | None, after: dict | None) -> None:
        self.rows.append({
            "at": self.at, "user_id": self.user_id, "role": self.role, "action": action, "entity": entity,
            "entity_id": entity_id, "entity_key": None if entity_key is None else str(entity_key)[:64],
            "estate_id": estate_id, "summary": summary[:SUMMARY_MAX], "before": before, "after": after,
            **self.request,
        })

    def write(self) -> None:
        if self.rows:
            self.conn.execute(_TABLE.insert(), self.rows)
            self.rows = []


# What changed.


def _columns(obj: Any) -> list[str]:
    return [a.key for a in sa.inspect(type(obj)).column_attrs]


def _snapshot(obj: Any, spec: Spec) -> dict:
    """Every column value the object holds now (without loading anything)."""
    state_dict = sa.inspect(obj).dict
    out = {}
    for key in _columns(obj):
        if key in state_dict:
            value = state_dict[key]
            out[key] = plain(spec.redact[key](value, "snapshot") if key in spec.redact else value)
    return out


def _changes(obj: Any, spec: Spec) -> tuple[dict, dict]:
    """The changed columns' values before and after (a value never loaded before shows as None)."""
    state = sa.inspect(obj)
    before, after = {}, {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if key in spec.redact:
            old, new = spec.redact[key](old, "before"), spec.redact[key](new, "after")
        before[key], after[key] = plain(old), plain(new)
    for key in spec.collections:
        history = state.attrs[key].history
        if history.added or history.deleted:
            kept = [sa.inspect(o).identity[0] for o in history.unchanged if sa.inspect(o).identity]
            before[key] = sorted(kept + [sa.inspect(o).identity[0] for o in history.deleted if sa.inspect(o).identity])
            after[key] = sorted(kept + [sa.inspect(o).identity[0] for o in history.added if sa.inspect(o).identity])
    return before, after


def _describe(before: dict, after: dict, told_as: dict[str, str] | None = None) -> str:
    told_as = told_as or {}
    return "; ".join(told_as[k] if k in told_as else f"{k}: {_short(before.get(k))} → {_short(after.get(k))}"
                     for k in after)


def _short(value: Any) -> str:
    text = "—" if value is None or value == "" else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _key_of(obj: Any, spec: Spec, values: dict) -> Any:
    return values.get(spec.key) if spec.key else None


def _record_object(ctx: _Context, obj: Any, spec: Spec, action: str) -> None:
    """Note one object's change for this transaction (merged with its earlier changes)."""
    entity = type(obj).__tablename__
    if action == CREATED:
        before, after = None, _snapshot(obj, spec)
        values = after
    elif action == DELETED:
        before, after = _snapshot(obj, spec), None
        values = before
    else:
        before, after = _changes(obj, spec)
        if not after:
            return  # touched, nothing changed
        values = _snapshot(obj, spec)
    entity_id = values.get("id")
    if entity_id is None and isinstance(obj, TicketClock):
        entity_id = values.get("estate_id")
    pending = _pending(ctx.session)
    key = (entity, entity_id, action == DELETED)
    earlier = pending.get(key)
    if earlier is not None and action != DELETED:
        _merge(earlier, before, after)
        return
    ctx.add(action=action, entity=entity, entity_id=entity_id, entity_key=_key_of(obj, spec, values),
            estate_id=ctx.estate_of(obj, spec, values), summary="", before=before, after=after)
    pending[key] = ctx.rows.pop()


def _merge(earlier: dict, before: dict, after: dict) -> None:
    """Several flushes of one transaction changed the same object: one entry, first before, last after."""
    if earlier["action"] == CREATED:
        earlier["after"].update(after)
        return
    for k, value in after.items():
        if k not in earlier["after"]:
            earlier["before"][k] = before.get(k)
        earlier["after"][k] = value
    for k in [k for k in earlier["after"] if earlier["before"].get(k) == earlier["after"][k]]:
        del earlier["before"][k], earlier["after"][k]


def _pending(session: Session) -> dict:
    return session.info.setdefault("audit_pending", {})


def _after_flush(session: Session, _flush_context: Any) -> None:
    work = [(o, CREATED) for o in session.new] + [(o, UPDATED) for o in session.dirty] + \
        [(o, DELETED) for o in session.deleted]
    work = [(o, AUDITED[type(o)], action) for o, action in work if type(o) in AUDITED]
    if not work:
        return
    ctx = _Context(session)
    for obj, spec, action in work:
        _record_object(ctx, obj, spec, action)


def _before_commit(session: Session) -> None:
    """Write what this transaction changed, after its last flush, inside it."""
    session.flush()  # what commit would flush next: noted by after_flush
    pending = session.info.pop("audit_pending", None)
    if not pending:
        return
    rows = [row for row in pending.values() if row["action"] != UPDATED or row["after"]]
    conn = session.connection()
    for row in rows:
        if row["action"] == UPDATED and row["entity"] == "round" \
                and row["after"].get("status") == RoundStatus.COMPLETED.value:
            # The findings went in as one Core INSERT, unseen by the session: counted once here.
            count = conn.execute(sa.select(sa.func.count()).select_from(Finding.__table__)
                                 .where(Finding.__table__.c.round_id == row["entity_id"])).scalar()
            row["after"]["findings_stored"] = count
            row["action"] = COMPLETED
            row["summary"] = f"{count} findings; "
        if row["action"] == UPDATED or row["action"] == COMPLETED:
            told_as = _SPEC_OF_TABLE[row["entity"]].told_as
            row["summary"] = (row["summary"] + _describe(row["before"], row["after"], told_as))[:SUMMARY_MAX]
    if rows:
        conn.execute(_TABLE.insert(), rows)


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # committed (written already), rolled back or closed: forget
        session.info.pop("audit_pending", None)


BULK_MAX = 1000  # a bulk statement touching more rows gets one summary entry


def _do_orm_execute(state: ORMExecuteState) -> Any:
    """ORM bulk UPDATE / DELETE of an audited model: one entry per row it touches (read first,
    in the same transaction, with the values it had), or one summary past BULK_MAX rows."""
    if not (state.is_update or state.is_delete):
        return None
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ not in AUDITED:
        return None
    cls, table, statement = mapper.class_, mapper.local_table, state.statement
    compiled = statement.compile()
    after = {c.key: plain(compiled.params[c.key]) for c in table.columns
             if state.is_update and c.key in compiled.params}
    ctx = _Context(state.session)
    touched = sa.select(table.c.id, *(table.c[k] for k in after))
    if statement.whereclause is not None:
        touched = touched.where(statement.whereclause)
    rows = ctx.conn.execute(touched.limit(BULK_MAX + 1)).all()
    result = state.invoke_statement()
    action = UPDATED if state.is_update else DELETED
    if len(rows) <= BULK_MAX:
        for row in rows:
            before = {k: plain(v) for k, v in zip(after, row[1:])}
            if state.is_update and before == after:
                continue
            ctx.add(action=action, entity=cls.__tablename__, entity_id=row[0], entity_key=None,
                    estate_id=_bulk_estate(ctx, cls, row[0]), summary=_describe(before, after),
                    before=before or None, after=after or None)
    else:
        ctx.add(action=action, entity=cls.__tablename__, entity_id=None, entity_key=None, estate_id=None,
                summary=f"{result.rowcount} rows; " + _describe({}, after), before=None, after=after or None)
    ctx.write()
    return result


def _bulk_estate(ctx: _Context, cls: type, row_id: int) -> int | None:
    table = cls.__tablename__
    if table in _ESTATE_SQL:
        return ctx.estate_of_parent(table, row_id)
    if "estate_id" in cls.__table__.c:
        return ctx.conn.execute(sa.select(cls.__table__.c.estate_id).where(cls.__table__.c.id == row_id)).scalar()
    return None


def record(session: Session, action: str, obj: Any, summary: str = "", *, before: dict | None = None,
           after: dict | None = None, estate_id: int | None = None) -> None:
    """Log something that changes nothing but must be known, e.g. an ID number revealed. `estate_id`
    names the estate when the object's own cannot tell it (a user of several estates).

    Written at once, in the session's transaction (commit it)."""
    spec = AUDITED.get(type(obj), Spec())
    ctx = _Context(session)
    values = _snapshot(obj, spec)
    ctx.add(action=action, entity=type(obj).__tablename__, entity_id=values.get("id"),
            entity_key=_key_of(obj, spec, values),
            estate_id=estate_id if estate_id is not None else ctx.estate_of(obj, spec, values), summary=summary,
            before=before, after=after)
    ctx.write()


def install() -> None:
    """Listen on every session (idempotent)."""
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_transaction_end", _after_transaction_end)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    for cls in AUDITED:
        # A value set on an expired object loads the old one first, so "before" is known.
        for attr in sa.inspect(cls).column_attrs:
            event.listen(getattr(cls, attr.key), "set", _keep_history, active_history=True)


def _keep_history(_target: Any, value: Any, _old: Any, _initiator: Any) -> Any:
    return value


def init_app(_app: Flask) -> None:
    install()
