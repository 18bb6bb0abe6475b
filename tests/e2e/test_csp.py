"""The Content-Security-Policy in real Chromium: the service worker registers and takes control,
and no page of any role trips the policy (a blocked script, style or image is a console error)."""
from __future__ import annotations

import pytest

from .conftest import sign_in

pytestmark = pytest.mark.e2e

PAGES = {
    "steward1": ["/rounds/today", "/decoration/", "/offline"],
    "desk1": ["/desk/", "/desk/findings", "/tickets/", "/decoration/", "/gate/", "/reports/summary"],
    "super1": ["/desk/supervisor", "/tickets/clocks", "/decoration/escalations"],
    "eng1": ["/engineering/", "/tickets/"],
    "gate": ["/gate/"],
}


def watch_policy(page) -> list[str]:
    """Console messages and page errors that report something the policy refused."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: seen.append(str(e)))
    return seen


def test_the_service_worker_registers_under_the_policy(live_server, phone, demo_estate):
    refused = watch_policy(phone)
    sign_in(phone, live_server, "steward1")
    phone.wait_for_url(f"{live_server}/rounds/today")
    # A function, not an expression string: Playwright evaluates a string with eval(), which the
    # policy refuses (no 'unsafe-eval').
    phone.wait_for_function(
        "() => navigator.serviceWorker.controller && navigator.serviceWorker.controller.state === 'activated'")
    assert phone.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{live_server}/sw.js"
    policy = phone.evaluate("fetch('/rounds/today').then(r => r.headers.get('Content-Security-Policy'))")
    assert "worker-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert refused == []


@pytest.mark.parametrize("username", sorted(PAGES))
def test_no_page_trips_the_policy(live_server, phone, demo_estate, username):
    refused = watch_policy(phone)
    sign_in(phone, live_server, username)
    phone.wait_for_load_state("networkidle")
    for path in PAGES[username]:
        phone.goto(f"{live_server}{path}")
        phone.wait_for_load_state("networkidle")
        assert phone.locator("h1").count() >= 1, path
    assert refused == []


def test_an_injected_inline_script_is_refused(live_server, phone, demo_estate):
    """The control for the two tests above: the policy is enforced and the watcher hears it."""
    refused = watch_policy(phone)
    phone.goto(f"{live_server}/login")
    phone.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';
                              document.body.append(s); }""")
    phone.wait_for_function("() => true")  # let the console event arrive
    assert phone.evaluate("window.injected") is None
    assert any("inline script" in m for m in refused), refused
