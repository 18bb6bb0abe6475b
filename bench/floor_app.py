"""The stack's floor for bench/sync.py: a bare Flask app under the same gunicorn that parses the same
round body (the completion POST of a corridor round) and stores the same rows (the round and one per
finding, with one executemany in one SQLite transaction), and nothing else: no session, no CSRF, no
checks, no audit entry, no ticket rule. Xuncha's CPU per round is reported as a multiple of this
app's, measured in the same run on the same machine, so the figure holds from one machine to another.

gunicorn loads it as `floor_app:create_floor_app('/path/to/floor.db')` with bench/ on its path.
"""
from __future__ import annotations

import sqlite3
import threading

from flask import Flask, jsonify, request

SCHEMA = """
CREATE TABLE IF NOT EXISTS round (uuid TEXT PRIMARY KEY, completed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS finding (uuid TEXT PRIMARY KEY, round_uuid TEXT NOT NULL REFERENCES round (uuid),
    checkpoint TEXT NOT NULL, item_code TEXT NOT NULL, result TEXT NOT NULL, note TEXT);
"""


def prepare(database: str) -> None:
    """The two tables, in WAL mode as Xuncha's SQLite file is; run once before gunicorn starts."""
    conn = sqlite3.connect(database)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
    finally:
        conn.close()


def count_findings(database: str) -> int:
    conn = sqlite3.connect(database)
    try:
        return conn.execute("SELECT count(*) FROM finding").fetchone()[0]
    finally:
        conn.close()


def create_floor_app(database: str) -> Flask:
    app = Flask(__name__)
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if getattr(local, "conn", None) is None:  # one per worker (thread), opened after the fork
            local.conn = sqlite3.connect(database, isolation_level=None, timeout=30)
            local.conn.execute("PRAGMA synchronous=NORMAL")
        return local.conn

    @app.get("/healthz")
    def healthz():  # noqa: ANN202
        return "ok"

    @app.post("/api/v1/rounds/<round_uuid>/completion")
    def complete(round_uuid: str):  # noqa: ANN202
        body = request.get_json()
        rows = [(f["uuid"], round_uuid, f["checkpoint"], f["item_code"], f["result"], f.get("note"))
                for f in body["findings"]]
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT INTO round (uuid, completed_at) VALUES (?, ?)", (round_uuid, body["completed_at"]))
            conn.executemany("INSERT INTO finding (uuid, round_uuid, checkpoint, item_code, result, note) "
                             "VALUES (?, ?, ?, ?, ?, ?)", rows)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return jsonify(uuid=round_uuid, findings=len(rows)), 201

    return app
