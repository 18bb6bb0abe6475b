"""Facts of a database (row counts, schema revision, photo keys) read from a SQLite file, a PostgreSQL
connection or a pg_dump archive; and the PostgreSQL client tools that make and read such archives."""

import os
import re
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import sqlalchemy as sa

from ..extensions import db
from .common import VERSION_TABLE, BackupError, Facts, _quote_sqlite, _valid_keys

# ---------------------------------------------------------------------------------------------
# Facts of a database: SQLite file, PostgreSQL connection, pg_dump archive


def _sqlite_facts(conn: sqlite3.Connection) -> Facts:
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")]
    counts = {t: conn.execute(f"SELECT count(*) FROM {_quote_sqlite(t)}").fetchone()[0] for t in tables}
    revision = None
    if VERSION_TABLE in counts:
        revision = ",".join(sorted(r[0] for r in conn.execute(f"SELECT version_num FROM {VERSION_TABLE}"))) or None
    keys = _valid_keys(conn.execute("SELECT display_key, thumb_key FROM photo")) if "photo" in counts else set()
    return Facts(revision, counts, keys)


def _pg_facts(conn: sa.Connection) -> Facts:
    quote = conn.dialect.identifier_preparer.quote
    tables = sorted(sa.inspect(conn).get_table_names())
    counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {quote(t)}")).scalar_one() for t in tables}
    revision = None
    if VERSION_TABLE in counts:
        revision = ",".join(sorted(conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())) or None
    keys = set()
    if "photo" in counts:
        keys = _valid_keys(conn.execute(sa.text("SELECT display_key, thumb_key FROM photo")))
    return Facts(revision, counts, keys)


_COPY = re.compile(r'^COPY (?:[^ ]+\.)?("(?:[^"]|"")+"|[^ ."]+) \((.*)\) FROM stdin;$')


def _unquote_pg(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _pg_dump_facts(dump: Path) -> Facts:
    """Read the data of a pg_dump archive (as `pg_restore --data-only` writes it out as COPY blocks),
    without any database: rows per table, the schema revision, the photo keys."""
    counts: dict[str, int] = {}
    revision_rows: list[str] = []
    keys: set[str] = set()
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(["pg_restore", "--data-only", "--file=-", str(dump)],
                                    stdout=subprocess.PIPE, stderr=errors)
        except FileNotFoundError:
            raise BackupError(_missing_tool("pg_restore")) from None
        table, columns = None, []
        assert proc.stdout is not None
        with proc.stdout:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if table is None:
                    m = _COPY.match(line)
                    if m:
                        table = _unquote_pg(m.group(1))
                        columns = [_unquote_pg(c.strip()) for c in m.group(2).split(",")]
                        counts[table] = 0
                    continue
                if line == "\\.":
                    table = None
                    continue
                counts[table] += 1
                values = line.split("\t")
                row = dict(zip(columns, values))
                if table == VERSION_TABLE:
                    revision_rows.append(row.get("version_num", ""))
                elif table == "photo":
                    keys |= _valid_keys([(row.get("display_key"), row.get("thumb_key"))])
        if proc.wait() != 0:
            errors.seek(0)
            raise BackupError(f"the database dump in the archive cannot be read: {_last_line(errors.read())}. "
                              "Nothing was changed.")
    revision = ",".join(sorted(revision_rows)) or None
    return Facts(revision, counts, keys)


# ---------------------------------------------------------------------------------------------
# PostgreSQL client tools


def _missing_tool(tool: str) -> str:
    return (f"{tool} is not installed; it comes with the PostgreSQL client tools "
            "(e.g. apt-get install postgresql-client, the same major version as the server or newer)")


def _last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no message"


def _pg_connection() -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password (that goes in PGPASSWORD, not on a command line)."""
    url = db.engine.url
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run_pg_tool(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    except FileNotFoundError:
        raise BackupError(_missing_tool(args[0])) from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {args[0]} said: {_last_line(done.stderr)}")
