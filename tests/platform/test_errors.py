"""Errors: HTML pages for people, one JSON shape under /api/, and a rollback after a crash."""
from __future__ import annotations

import sqlalchemy as sa

from app import create_app
from app.access import public
from app.extensions import db
from app.models import Estate

from tests.conftest import base_config


def test_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "does not exist" in response.get_data(as_text=True) or "不存在" in response.get_data(as_text=True)


def test_unknown_api_path_is_a_json_404_with_the_one_shape(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert set(response.get_json()) == {"code", "message", "errors"}


def test_method_not_allowed_is_405(client):
    assert client.put("/login").status_code == 405


def test_a_crash_rolls_back_and_answers_500_and_the_app_keeps_serving(app, backend, tmp_path):
    crashing = create_app(dict(base_config(tmp_path / "crash", app.config["SQLALCHEMY_DATABASE_URI"])))

    @crashing.route("/boom")
    @public
    def boom():
        db.session.add(Estate(code="HALF", name="half-stored"))
        db.session.flush()
        raise RuntimeError("bug")

    @crashing.route("/api/boom")
    @public
    def api_boom():
        raise RuntimeError("bug")

    client = crashing.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    api = client.get("/api/boom")
    assert api.status_code == 500 and api.get_json()["code"] == 500
    assert client.get("/healthz").status_code == 200
    with crashing.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Estate)) == 0
        db.session.remove()
        db.engine.dispose()
