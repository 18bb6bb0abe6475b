"""Command-line tasks: `flask --app app <command>`."""
from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_migrate import upgrade
from sqlalchemy.exc import SQLAlchemyError

from . import demo
from .extensions import db
from .models import Building, Estate, Role
from .rounds.checklists import edited_in_browser, sync_checklists


def _database_error(exc: SQLAlchemyError) -> click.ClickException:
    url = db.engine.url.render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    return click.ClickException(f"cannot use the database at {url}: {reason}")


def print_demo_logins() -> None:
    click.echo("Demo logins (password: %s):" % demo.DEMO_PASSWORD)
    for login in demo.DEMO_LOGINS:
        click.echo(f"  {login.username:<10} {login.role.value:<12} {login.display_name}")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no estate and no user.")
@click.option("--history", is_flag=True,
              help="Also the four weeks before today: rounds, findings, photos and tickets in every state.")
@with_appcontext
def seed_demo(if_empty: bool, history: bool = False) -> None:
    """Load the demo estate (翠湖花園) and the demo users."""
    sync_checklists(db.session)
    if demo.demo_exists(db.session):
        click.echo("The demo estate is already loaded.")
    elif if_empty and not demo.database_is_empty(db.session):
        click.echo("The database already has data; the demo estate was not loaded.")
        db.session.commit()
        return
    else:
        estate = demo.load_demo(db.session, history=history)
        click.echo(f"Loaded the demo estate {estate.name}: {len(estate.buildings)} buildings, "
                   f"{sum(len(b.units) for b in estate.buildings)} units.")
        if history:
            click.echo("With its last four weeks: " + demo.history_counts(db.session))
    db.session.commit()
    print_demo_logins()


@click.command("setup")
@with_appcontext
def setup() -> None:
    """Apply migrations, load checklists, and load the demo estate into an empty database."""
    try:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        upgrade()
        created = sync_checklists(db.session)
        db.session.commit()
    except SQLAlchemyError as exc:
        raise _database_error(exc) from None
    for version in created:
        click.echo(f"Checklist {version.kind.value} is now version {version.version}.")
    click.get_current_context().invoke(make_vapid_keys)
    click.get_current_context().invoke(seed_demo, if_empty=True, history=True)


@click.command("sync-checklists")
@with_appcontext
def sync_checklists_command() -> None:
    """Store a new version of every checklist whose data file changed."""
    created = sync_checklists(db.session)
    db.session.commit()
    if not created:
        click.echo("Checklists are up to date.")
    for version in created:
        click.echo(f"Checklist {version.kind.value} is now version {version.version} ({len(version.items)} items).")
    for version in edited_in_browser(db.session):
        click.echo(f"Checklist {version.kind.value}: the company's own version {version.version} (published in the "
                   "browser) stays in use; its data file was not loaded.")


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Name shown in the app.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--estate", "estate_codes", multiple=True, help="Estate code to assign estate-wide (repeatable).")
@click.option("--building", "building_codes", multiple=True, metavar="ESTATE:BUILDING",
              help="A building to assign, by estate code and building code (repeatable), e.g. CUIHU:B1.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_user(username: str, display_name: str, role: str, estate_codes: tuple[str, ...],
                building_codes: tuple[str, ...], password: str) -> None:
    """Create a staff user, assigned to estates (estate-wide) and buildings."""
    from .refusals import Refusal
    from .staff import accounts

    if len(password) < accounts.PASSWORD_MIN:
        raise click.BadParameter(f"use at least {accounts.PASSWORD_MIN} characters", param_hint="--password")
    estate_ids = set()
    for code in estate_codes:
        estate = db.session.scalar(sa.select(Estate).where(Estate.code == code))
        if estate is None:
            raise click.ClickException(f"no estate with code {code!r}")
        estate_ids.add(estate.id)
    building_ids = set()
    for given in building_codes:
        estate_code, sep, building_code = given.partition(":")
        if not sep or not estate_code or not building_code:
            raise click.BadParameter(f"{given!r}: write ESTATE:BUILDING (estate code, building code)",
                                     param_hint="--building")
        estate = db.session.scalar(sa.select(Estate).where(Estate.code == estate_code))
        if estate is None:
            raise click.ClickException(f"--building {given}: no estate with code {estate_code!r}")
        building = db.session.scalar(sa.select(Building).where(Building.estate_id == estate.id,
                                                               Building.code == building_code))
        if building is None:
            raise click.ClickException(f"--building {given}: estate {estate_code} has no building {building_code!r}")
        building_ids.add(building.id)
    try:
        accounts.create_user(db.session, None, username=username, display_name=display_name, role=Role(role),
                             assignments=accounts.Assignments(frozenset(estate_ids), frozenset(building_ids)),
                             password=password)
    except Refusal as exc:
        db.session.rollback()
        with force_locale("en"):  # the command line speaks English
            details = "; ".join(str(m) for messages in exc.errors.values() for m in messages) or str(exc.message)
        raise click.ClickException(details) from None
    db.session.commit()
    where = ", ".join([*estate_codes, *building_codes])
    click.echo(f"Created {role} {username}" + (f" ({where})." if where else "."))


@click.command("import-estate")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and say what would change; store nothing.")
@click.option("--template", is_flag=True, help="Write an empty workbook with instructions to FILE instead.")
@with_appcontext
def import_estate(file: Path, dry_run: bool, template: bool) -> None:
    """Import the estate workbook FILE (.xlsx): exit 0 when stored (or clean, with --dry-run), exit 1
    with every problem listed, and nothing stored, when any row is wrong."""
    from .places import workbook

    if template:
        file.write_bytes(workbook.template_workbook())
        click.echo(f"Wrote the estate workbook template to {file}.")
        return
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
    try:
        report = workbook.import_workbook(db.session, data, None, dry_run=dry_run)
    except workbook.WorkbookRefused as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        if exc.total > len(exc.problems):
            click.echo(f"… and {exc.total - len(exc.problems)} more.", err=True)
        raise click.ClickException(f"{exc.total} problem(s); nothing was stored.") from None
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(workbook.describe(report))


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--gzip/--no-gzip", "compress", default=None,
              help="Compress the archive (into a folder: yes by default; a file name decides by .tar / .tar.gz).")
@with_appcontext
def backup_command(dest: Path, compress: bool | None) -> None:
    """Write one archive to DEST (a folder or a .tar/.tar.gz path): database snapshot, photos, manifest."""
    from . import backup

    try:
        result = backup.create_backup(dest, compress=compress)
    except backup.BackupError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(backup.describe_backup(result))


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(archive: Path, force: bool) -> None:
    """Verify ARCHIVE completely, then restore its database and photos."""
    from . import backup

    try:
        result = backup.restore_backup(archive, force=force)
    except backup.BackupError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(backup.describe_restore(result, archive))


@click.command("transfer")
@click.argument("target_url")
@click.option("--photos-to-s3", "bucket", metavar="BUCKET",
              help="Also copy the photos into this S3-compatible bucket (else they stay where they are).")
@click.option("--s3-endpoint-url", help="The bucket's endpoint (MinIO, Ceph, …); default: $S3_ENDPOINT_URL or AWS.")
@click.option("--s3-prefix", default=None, help="Object name prefix in the bucket; default: $S3_PREFIX.")
@click.option("--s3-region", default=None, help="The bucket's region; default: $S3_REGION.")
@with_appcontext
def transfer_command(target_url: str, bucket: str | None, s3_endpoint_url: str | None, s3_prefix: str | None,
                     s3_region: str | None) -> None:
    """Copy this SQLite installation into the empty PostgreSQL database TARGET_URL and verify it."""
    from flask import current_app

    from .backup import BackupError
    from .backup.transfer import describe_transfer, transfer
    from .photos.storage import S3PhotoStorage

    photos_to = None
    if bucket:
        config = current_app.config
        photos_to = S3PhotoStorage(bucket, prefix=config["S3_PREFIX"] if s3_prefix is None else s3_prefix,
                                   endpoint_url=s3_endpoint_url or config["S3_ENDPOINT_URL"],
                                   region=s3_region or config["S3_REGION"],
                                   access_key_id=config.get("S3_ACCESS_KEY_ID"),
                                   secret_access_key=config.get("S3_SECRET_ACCESS_KEY"))
    try:
        result = transfer(target_url, photos_to=photos_to, progress=click.echo)
    except BackupError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(describe_transfer(result))


@click.command("sweep-photos")
@click.option("--grace-hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="Keep files younger than this: an upload may still be on its way to its row.")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@with_appcontext
def sweep_photos(grace_hours: float, dry_run: bool) -> None:
    """Remove stored photo files that no row names (left by a crashed worker), after a grace period."""
    import logging
    from datetime import timedelta

    from .photos.storage import get_storage
    from .photos.sweep import sweep_orphans

    report = sweep_orphans(db.session, get_storage(), grace=timedelta(hours=grace_hours), dry_run=dry_run)
    for key in report.removed:
        click.echo(f"{'would remove' if dry_run else 'removed'} {key}")
    # Photos sent in parts that nobody continued (app/photos/resumable.py): a phone may be offline for days.
    from .photos.resumable import DEFAULT_PARTIAL_GRACE, sweep_partials, upload_folder

    partials = sweep_partials(upload_folder(), grace=max(DEFAULT_PARTIAL_GRACE, timedelta(hours=grace_hours)),
                              dry_run=dry_run)
    for name in partials:
        click.echo(f"{'would remove' if dry_run else 'removed'} partial upload {name}")
    click.echo(f"{len(partials)} partial upload(s) nobody continued {'to remove' if dry_run else 'removed'}")
    summary = (f"{len(report.removed)} file(s) without a row {'to remove' if dry_run else 'removed'}; "
               f"{len(report.young)} without a row kept (younger than {grace_hours:g} h); {report.named} named by a row")
    logging.getLogger("xuncha.sweep").warning("sweep-photos: %s%s", summary,
                                              f": {', '.join(report.removed)}" if report.removed else "")
    click.echo(summary)


@click.command("make-vapid-keys")
@with_appcontext
def make_vapid_keys() -> None:
    """Make this installation's Web Push (VAPID) keys once, in the instance folder (never in the repository)."""
    from flask import current_app

    from .notices import push

    path = Path(current_app.config["VAPID_PRIVATE_KEY_FILE"])
    if push.make_keys(path):
        click.echo(f"Made the Web Push keys (VAPID) in {path}: keep this file; every app host uses the same one.")
    else:
        click.echo(f"The Web Push keys (VAPID) are in {path}.")


@click.command("notices-tick")
@with_appcontext
def notices_tick() -> None:
    """Notify of work that is late now (once each), and push the notices a stopped process left untried.
    Run it every few minutes (docs/deploy.md: a systemd timer)."""
    from flask import current_app

    from .notices import operations, push

    app = current_app._get_current_object()
    made = operations.sweep_overdue(db.session)
    db.session.commit()
    retried = push.retry_untried(db.session, app)
    db.session.commit()
    push.drain(app)  # the new notices' pushes, before the process ends
    click.echo(f"{made} overdue notice(s) made; {retried} untried push(es) sent again.")


def init_app(app: Flask) -> None:
    for command in (seed_demo, setup, make_vapid_keys, notices_tick, sync_checklists_command, create_user, import_estate, backup_command,
                    restore_command, transfer_command, sweep_photos):
        app.cli.add_command(command)
