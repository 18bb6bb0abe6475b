"""A live server in a thread and Debian's Chromium driven by Playwright, at phone size."""
from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app import demo
from app.extensions import db

CHROMIUM = os.environ.get("XUNCHA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 360, "height": 740}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# A real browser cancels requests (a module preload dropped by a navigation, a page closed while a
# photo loads): the live server's request thread then leaves the file or the pooled connection it was
# using to the garbage collector, which Python reports as a ResourceWarning at some later moment,
# in whatever test runs then. The browser tests collect that garbage before they end (below) and do
# not count such reports as failures; every other test still does (pyproject: filterwarnings=error).
def pytest_collection_modifyitems(config, items):  # noqa: ANN001
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))
            item.add_marker(pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"))


@pytest.fixture
def live_server(app):
    db.session.commit()  # what the test arranged is visible to the server's threads
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    gc.collect()  # what cancelled requests left behind is collected inside this browser test


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium, or set XUNCHA_CHROMIUM "
                    "(`python tests/e2e/find_chromium.py` finds or fetches one; `make test` runs it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def phone(browser, request):
    """A fresh phone-sized browser context in Traditional Chinese; screenshots land in test-artifacts/."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-TW", has_touch=True,
                                  is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    if context.pages:  # the test may have closed the first page and opened another
        context.pages[-1].screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def sign_in(page, base, username="steward1"):
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")


@pytest.fixture
def camera_photo(tmp_path):
    """A camera-sized JPEG whose dark/coloured quadrants show if it is stored sideways."""
    path = tmp_path / "defect.jpg"
    image = Image.new("RGB", (3000, 2000), (40, 40, 40))
    image.paste((220, 30, 30), (0, 0, 1500, 1000))
    image.save(path, quality=88)
    return path


@pytest.fixture
def demo_estate(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0


def unfold(page):
    """Open every folded group of the today page (as a steward taps "N more")."""
    closed = page.locator("details.fold:not([open]) > summary")
    while closed.count():
        closed.first.click()
