"""A checkpoint's sticker scanned by the phone's camera, offline, in real Chromium: the camera is
Chromium's fake capture device playing a video this test makes (segno → PNG → Pillow → Y4M) of the
sticker's QR code; the round is completed with no signal and its scan reaches the server with it."""
from __future__ import annotations

import io
import json

import pytest
import segno
import sqlalchemy as sa
from PIL import Image

from app.api.offline_pack import offline_pack
from app.extensions import db
from app.models import CheckpointScan, Round, RoundKind, RoundStatus, ScanOutcome, User
from app.rounds import checkpoints

from .conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, sign_in, unfold
from .test_offline import ready_offline

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 640, 480
PHONE_TALL = {"width": 412, "height": 915}


def y4m_of(text: str, path, frames: int = 2) -> None:
    """A still video of the QR code of `text` on white, as Chromium's fake camera reads it (4:2:0)."""
    png = io.BytesIO()
    segno.make(text, error="m").save(png, kind="png", scale=8, border=4)
    code = Image.open(io.BytesIO(png.getvalue())).convert("RGB")
    frame = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    frame.paste(code, ((WIDTH - code.width) // 2, (HEIGHT - code.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (WIDTH // 2, HEIGHT // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)


@pytest.fixture
def sticker(app, demo_estate, tmp_path):
    """A vacant unit steward1 is to check today, its sticker printed, scans required on vacant-unit
    checks, and the video of that sticker."""
    steward = db.session.scalars(sa.select(User).where(User.username == "steward1")).one()
    target = next(t for t in offline_pack(db.session, steward)["targets"]
                  if t["kind"] == "vacant_unit" and t["status"] != "done" and not t["round_in_progress"])
    estate = steward.estates[0]
    checkpoints.ensure_codes(db.session, estate, RoundKind.VACANT_UNIT)
    checkpoints.set_required(db.session, estate, RoundKind.VACANT_UNIT, True, steward)
    code = next(c for key, _, c in checkpoints.codes_of(db.session, estate, RoundKind.VACANT_UNIT)
                if key == f"unit:{target['unit_id']}")
    video = tmp_path / "sticker.y4m"
    y4m_of(checkpoints.code_text(code), video)
    code_id = code.id
    db.session.commit()  # and no transaction is left open while the server writes
    return target, code_id, video


def test_a_sticker_scanned_offline_by_the_camera_syncs_with_its_round(browser, sticker, live_server):
    target, code_id, video = sticker
    camera = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    context = camera.new_context(viewport=PHONE_TALL, device_scale_factor=2, locale="zh-TW", has_touch=True,
                                 is_mobile=True)
    context.grant_permissions(["camera"], origin=live_server)
    page = context.new_page()
    page.set_default_timeout(45_000)  # a shared CI machine: sign-in hashes with scrypt
    try:
        sign_in(page, live_server)
        page.wait_for_url(f"{live_server}/rounds/today")
        ready_offline(page)
        context.set_offline(True)
        page.reload()
        unfold(page)
        page.locator(f"li.round-card[data-target='{target['key']}'] form button").click()
        page.wait_for_selector(".checkpoint")
        page.click(".all-fine")
        page.click(".walk-nav .primary")
        # Scans are required: the round waits for this checkpoint's scan.
        page.wait_for_selector(".summary .not-scanned")
        assert page.locator("button.complete").is_disabled()
        page.click(".summary .not-scanned button")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "checkpoint_scan_before_412x915.png"))
        page.click(".scan-camera")
        page.wait_for_selector(".scan-state.scanned", timeout=20_000)  # read from the fake camera, matched offline
        page.screenshot(path=str(ARTIFACTS / "checkpoint_scan_round_page_412x915.png"))
        page.click(".walk-nav .primary")
        page.click("button.complete")
        page.wait_for_selector(".done")

        sent = []
        page.on("request", lambda r: sent.append(r.post_data) if r.url.endswith("/completion") else None)
        context.set_offline(False)
        page.wait_for_selector("#sync-bar[data-pending='0']", timeout=20_000)
        assert json.loads(sent[0])["scans"][0]["method"] == "camera"
    finally:
        context.close()
        camera.close()

    db.session.commit()
    rnd = db.session.scalars(sa.select(Round).where(Round.unit_id == target["unit_id"], Round.kind == RoundKind.VACANT_UNIT,
                                                    Round.status == RoundStatus.COMPLETED)
                             .order_by(Round.id.desc())).first()
    [scan] = db.session.scalars(sa.select(CheckpointScan).where(CheckpointScan.round_id == rnd.id)).all()
    assert (scan.outcome, scan.code_id, scan.checkpoint_key) == (ScanOutcome.ACCEPTED, code_id, f"unit:{target['unit_id']}")
    assert scan.scanned_at <= rnd.completed_at
    db.session.commit()
