"""No phone page grows longer than it was for the same data (issue 16): the demo with its four weeks
of history, on its busiest kind of day (a Tuesday at the start of a month: corridors, every vacant
unit and meter, the daily decoration checks, repairs to check), at 412 × 915.

The baseline is tests/e2e/page_heights.json; `XUNCHA_RECORD_HEIGHTS=1` writes it anew (after a
change that makes a page shorter, or one that is meant to add to it)."""
from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from .conftest import ARTIFACTS, CHROMIUM_ARGS, sign_in  # noqa: F401

pytestmark = pytest.mark.e2e

BASELINE = Path(__file__).with_name("page_heights.json")
VIEWPORT = {"width": 412, "height": 915}
# The server's clock only (Chromium keeps its own): a fixed day ahead, so the data are the same on
# every run and the session cookie (12 h) is not already expired for the browser.
BUSIEST = datetime(2030, 1, 8, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PAGES = {
    "steward1": ["/rounds/today", "/decoration/", "/desk/units"],
    "steward2": ["/rounds/today"],
    "gate": ["/gate/"],
}


@pytest.fixture
def busiest_day(runner):
    traveller = time_machine.travel(BUSIEST, tick=True)
    traveller.start()
    try:
        assert runner.invoke(args=["seed-demo", "--history"]).exit_code == 0
        yield BUSIEST
    finally:
        traveller.stop()


def cjk_fonts() -> bool:
    import shutil
    import subprocess

    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh-tw", "family"], capture_output=True, text=True).stdout
    return "Noto Sans CJK" in listed


def measure(browser, base) -> dict[str, int]:
    heights = {}
    for user, paths in PAGES.items():
        context = browser.new_context(viewport=VIEWPORT, locale="zh-TW", is_mobile=True, has_touch=True)
        page = context.new_page()
        sign_in(page, base, user)
        page.wait_for_load_state("networkidle")
        for path in paths:
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
            heights[f"{user} {path}"] = page.evaluate("() => document.documentElement.scrollHeight")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"height-{user}-{path.strip('/').replace('/', '_')}.png"), full_page=True)
        context.close()
    return heights


def test_phone_pages_are_no_longer_than_their_baseline(busiest_day, live_server, browser):
    heights = measure(browser, live_server)
    if os.environ.get("XUNCHA_RECORD_HEIGHTS"):
        BASELINE.write_text(json.dumps({"viewport": VIEWPORT, "server_date": BUSIEST.isoformat(), "heights": heights},
                                       indent=2, ensure_ascii=False) + "\n")
    if not cjk_fonts():
        pytest.skip("the baseline was measured with the Noto CJK fonts (Debian's fonts-noto-cjk, installed by CI); "
                    "other fonts draw other heights")
    baseline = json.loads(BASELINE.read_text())["heights"]
    longer = {page: (height, baseline.get(page)) for page, height in heights.items()
              if baseline.get(page) is None or height > baseline[page] + 2}
    assert longer == {}
    # The steward's day fits in two screens.
    assert heights["steward1 /rounds/today"] <= 2 * VIEWPORT["height"]
