"""Schemathesis fuzzes every operation of /api/openapi.json as a signed-in steward.

Cases come from the document itself: valid bodies, path and form values, and invalid ones. Every
answer must be no server error, a status code the document lists for that operation, with its
content type and a body matching its schema; a request the document calls invalid must be refused
with a 4xx. Operations with a path parameter are fuzzed twice: with generated values (unknown
records) and with the steward's real records of the demo estate, so the bodies reach the services.
The app runs in-process (WSGI), each request in its own app context as in production.
Derandomized and capped so the whole run takes well under a minute on two cores.
"""
from __future__ import annotations

import contextvars
import uuid as uuidlib
from collections import Counter

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from app import demo
from app.decoration import base
from app.extensions import db
from app.models import (
    Finding,
    FindingAmendment,
    FloodTest,
    FloodTestStatus,
    MaterialRequest,
    MaterialStatus,
    Photo,
    Round,
    User,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
MAX_EXAMPLES = 25
# What the upload's schema itself answers; any other answer came from the photo's own checks.
SCHEMA_MESSAGES = {"Not a UUID.", "Not a SHA-256 in hex.", "Send exactly one of finding_uuid and record_uuid.",
                   "Missing data for required field.", "Send a file.", "Unknown field.", "Not a valid string."}
SETTINGS = settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


class Isolated:
    """Each request in its own app context (as conftest's test client does): the test's session is
    committed first, so the request sees the demo data and no SQLite write lock is held."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    def __call__(self, environ, start_response):  # noqa: ANN001, ANN204
        db.session.commit()
        return contextvars.Context().run(self.app, environ, start_response)


def real_records(client, headers) -> dict[str, dict]:  # noqa: ANN001
    """Path parameters naming steward1's own records, by operation path."""
    steward = db.session.scalar(sa.select(User).where(User.username == "steward1"))
    target = client.get("/api/v1/offline-pack").get_json()["targets"][0]
    started = client.post("/api/v1/rounds", headers=headers, json={
        "uuid": str(uuidlib.uuid4()), "kind": target["kind"], "estate_id": target["estate_id"],
        "building_id": target["building_id"], "unit_id": target["unit_id"]})
    assert started.status_code == 201, started.get_json()
    finding = db.session.scalars(sa.select(Finding).join(Round).where(Round.steward_id == steward.id)
                                 .order_by(Finding.id)).first()
    completed = finding.round
    photo = db.session.scalars(sa.select(Photo).join(Finding, Photo.finding_id == Finding.id).join(Round)
                               .where(Round.steward_id == steward.id)).first()
    test = next(t for t in db.session.scalars(sa.select(FloodTest).where(FloodTest.status == FloodTestStatus.RUNNING))
                if base.in_scope(steward, t.unit))
    request = next(r for r in db.session.scalars(
        sa.select(MaterialRequest).where(MaterialRequest.status == MaterialStatus.PENDING))
        if base.in_scope(steward, r.unit))
    return {
        "/api/v1/rounds/{uuid}": {"uuid": completed.uuid},
        "/api/v1/rounds/{uuid}/completion": {"uuid": started.get_json()["uuid"]},
        "/api/v1/findings/{uuid}/amendments": {"uuid": finding.uuid},
        "/api/v1/photos/{uuid}": {"uuid": photo.uuid},
        "/api/v1/flood-tests/{test_uuid}/neighbour-check": {"test_uuid": test.uuid},
        "/api/v1/flood-tests/{test_uuid}/result": {"test_uuid": test.uuid},
        "/api/v1/material-requests/{request_id}/decision": {"request_id": request.id},
    }


@pytest.fixture
def steward_api(app, client, auth, runner):
    """The loaded document, steward1's session cookie and CSRF header, and their real records."""
    assert runner.invoke(args=["seed-demo", "--history"]).exit_code == 0
    assert auth.login("steward1", demo.DEMO_PASSWORD).status_code == 302
    headers = {"X-CSRFToken": client.get("/api/v1/session").get_json()["csrf_token"]}
    records = real_records(client, headers)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", Isolated(app))
    return schema, headers, {cookie.key: cookie.value}, records


def test_api_answers_as_documented(steward_api):
    schema, headers, cookies, records = steward_api
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14, "every API operation is in the document"
    assert set(records) <= {op.path for op in operations}
    statuses: Counter[int] = Counter()
    uploads_past_the_schema: Counter[int] = Counter()  # valid multipart uploads that reached the photo checks
    failures: list[str] = []
    unbreakable: list[str] = []
    for operation in operations:
        for path_parameters in ([None, records[operation.path]] if operation.path in records else [None]):
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                label = f"{operation.label} [{mode.value}{', real records' if path_parameters else ''}]"

                @SETTINGS
                @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
                def run(case):  # noqa: ANN001, ANN202
                    response = case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)
                    statuses[response.status_code] += 1
                    if operation.path == "/api/v1/photos/{uuid}" and mode is GenerationMode.POSITIVE:
                        errors = (response.json() or {}).get("errors", {}) if response.status_code >= 400 else {}
                        messages = {m for found in errors.values() for m in found}
                        if response.status_code in (201, 404, 409) or (
                                response.status_code == 422 and not messages & SCHEMA_MESSAGES):
                            uploads_past_the_schema[response.status_code] += 1

                try:
                    run()
                except Unsatisfiable:
                    if mode is GenerationMode.POSITIVE:
                        raise
                    unbreakable.append(label)  # nothing in it can be made invalid (no body, a free string)
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation is tried
                    failures.append(f"{label}:\n{exc}")
    print(f"\nschemathesis: {sum(statuses.values())} cases over {len(operations)} operations, answers "
          f"{dict(sorted(statuses.items()))}; nothing invalid to send for: {', '.join(unbreakable)}")
    print(f"photo uploads generated valid and answered by the photo checks: {dict(uploads_past_the_schema)}")
    assert not failures, "\n\n".join(failures)
    assert statuses[201] and statuses[200], "some generated requests succeed"
    # The multipart body is documented with all its fields: generated uploads pass the schema and reach the
    # photo's own checks (its finding, its bytes against the SHA-256, the JPEG itself).
    assert sum(uploads_past_the_schema.values()) >= 5, uploads_past_the_schema


# Bad input on every API route, beyond what the generator makes: oversize bodies, broken JSON, a
# session cookie signed by another deployment's secret. Each gets a clear 4xx in the one error shape,
# documented for that operation, and changes nothing.

def write_operations(app, client) -> list[tuple[str, str, dict]]:  # noqa: ANN001
    """(method, path with real-looking values, documented responses) of every POST/PUT in the document."""
    document = client.get("/api/openapi.json").get_json()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put"):
                concrete = path.replace("{request_id}", "1")
                for name in ("{uuid}", "{test_uuid}"):
                    concrete = concrete.replace(name, str(uuidlib.uuid4()))
                found.append((method.upper(), concrete, operation["responses"]))
    assert len(found) >= 10
    return found


def assert_error(response, status: int) -> dict:  # noqa: ANN001
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"code", "message", "errors"} and body["code"] == status and body["message"]
    return body


@pytest.fixture
def signed_in_steward(app, client, auth, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert auth.login("steward1", demo.DEMO_PASSWORD).status_code == 302
    return {"X-CSRFToken": client.get("/api/v1/session").get_json()["csrf_token"]}


def round_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Round))


def test_oversize_requests_get_a_documented_413_on_every_write_route(app, client, signed_in_steward):
    before = round_count()
    too_big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    for method, path, responses in write_operations(app, client):
        content_type = "multipart/form-data; boundary=b" if path.startswith("/api/v1/photos/") else "application/json"
        response = client.open(path, method=method, data=too_big, content_type=content_type,
                               headers=signed_in_steward)
        assert_error(response, 413)
        assert "413" in responses, f"{method} {path} does not document 413"
    assert round_count() == before


def test_malformed_json_gets_a_documented_400_naming_the_body(app, client, signed_in_steward):
    before = round_count()
    for method, path, responses in write_operations(app, client):
        if path.startswith("/api/v1/photos/"):
            continue  # multipart, below
        for broken in ('{"uuid": ', "[1, 2", "\xff\xfe", "NaN-ish"):
            response = client.open(path, method=method, data=broken, content_type="application/json",
                                   headers=signed_in_steward)
            body = assert_error(response, 400)
            assert body["errors"] == {"json": ["Invalid JSON body."]}, body
        assert "400" in responses
    assert round_count() == before


def test_a_multipart_field_without_a_readable_name_is_refused(client, signed_in_steward):
    body = (b'--b\r\nContent-Disposition: form-data\r\n\r\n{}\r\n'  # no name: werkzeug keys it None
            b'--b\r\nContent-Disposition: form-data; name="sha256"\r\n\r\n' + b"0" * 64 + b"\r\n--b--\r\n")
    response = client.put(f"/api/v1/photos/{uuidlib.uuid4()}", data=body,
                          content_type="multipart/form-data; boundary=b", headers=signed_in_steward)
    body = assert_error(response, 400)
    assert "form" in body["errors"]


def test_a_session_cookie_from_another_deployment_is_not_signed_in(app, client, signed_in_steward):
    from flask.sessions import SecureCookieSessionInterface

    other = app.test_client()
    forged = SecureCookieSessionInterface().get_signing_serializer(
        type("Other", (), {"secret_key": "another-deployment", "config": app.config})())
    cookie = forged.dumps({"_user_id": "1", "_fresh": True})
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    assert_error(other.get("/api/v1/session"), 401)
    before = round_count()
    response = other.post("/api/v1/rounds", json={"uuid": str(uuidlib.uuid4()), "kind": "corridor", "estate_id": 1},
                          headers=signed_in_steward)
    assert response.status_code in (400, 401)
    assert_error(response, response.status_code)
    assert round_count() == before


def test_text_with_a_nul_character_is_refused_on_every_database(client, steward_api):
    """PostgreSQL cannot store U+0000 in text; SQLite could. Both refuse it alike, before any write."""
    _, headers, _, records = steward_api
    finding_uuid = records["/api/v1/findings/{uuid}/amendments"]["uuid"]
    amendments = sa.select(sa.func.count()).select_from(FindingAmendment)
    before = db.session.scalar(amendments)
    response = client.post(f"/api/v1/findings/{finding_uuid}/amendments", headers=headers,
                           json={"result": "fine", "why": "wrong\x00answer"})
    body = assert_error(response, 422)
    assert body["errors"] == {"why": ["Text may not contain the character U+0000."]}, body
    assert db.session.scalar(amendments) == before


def test_an_id_beyond_the_database_integer_is_simply_not_found(client, auth, signed_in_steward):
    """PostgreSQL's integer ends at 2³¹-1: a larger ID in a URL or a body is a 404/422, not a failed query."""
    huge = 2**31
    response = client.post(f"/api/v1/material-requests/{huge}/decision", headers=signed_in_steward,
                           json={"uuid": str(uuidlib.uuid4()), "approved": True})
    assert_error(response, 404)
    response = client.post("/api/v1/violation-rechecks", headers=signed_in_steward,
                           json={"uuid": str(uuidlib.uuid4()), "violation_id": huge, "result": "rectified"})
    assert "violation_id" in assert_error(response, 422)["errors"]
    auth.logout()
    auth.login("desk1", demo.DEMO_PASSWORD)
    for path in (f"/tickets/{huge}", f"/desk/units/{huge}", f"/decoration/{huge}", f"/decoration/violations/{huge}"):
        assert client.get(path).status_code == 404, path
