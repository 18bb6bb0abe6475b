"""axe-core in real Chromium on the main pages of every role: no serious or critical violations.

axe-core is vendored under tests/e2e/vendor/axe-core/ (its version, hash and licence are there), so
the test needs no network and no Node. The app's Content-Security-Policy would block the script
injected by the test, so the test's browser context bypasses CSP (the app's pages are unchanged).
Stewards and the gate use phones; the desk, supervisors and engineering are checked at desk size.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import DecorationPermit, RepairTicket, Unit

from .conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
DESK = {"width": 1280, "height": 900}
BLOCKING = ("serious", "critical")

# role's demo login → (viewport, [pages]): paths ({…} filled from the demo's records) or a named step.
PAGES = {
    "steward1": (PHONE, ["/rounds/today", "walk", "walk-defect", "/decoration/"]),
    "desk1": (DESK, ["/desk/", "/tickets/", "/tickets/{ticket}", "/desk/findings", "/decoration/",
                     "/decoration/{permit}", "/desk/units/{unit}", "/gate/requests"]),
    "super1": (DESK, ["/desk/supervisor", "/reports/summary", "/decoration/escalations"]),
    "eng1": (DESK, ["/engineering/", "/engineering/meters"]),
    "gate": (PHONE, ["/gate/"]),
}


def run_axe(page) -> list[dict]:  # noqa: ANN001
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const result = await axe.run(document);
        if (result.passes.length < 10) throw new Error(`axe checked too little: ${result.passes.length} rules passed`);
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                      summary: n.failureSummary}))}));
    }""")


def describe(found: list[tuple[str, str, dict]]) -> str:
    lines = []
    for who, where, v in found:
        lines.append(f"[{v['impact']}] {who} {where}: {v['id']} — {v['help']} ({v['url']})")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}\n      {node['html']}\n      {node['summary'].replace(chr(10), ' / ')}")
        if len(v["nodes"]) > 5:
            lines.append(f"    … and {len(v['nodes']) - 5} more elements")
    return "\n".join(lines)


@pytest.fixture
def demo_with_history(runner):
    assert runner.invoke(args=["seed-demo", "--history"]).exit_code == 0


def visit(page, base: str, where: str, ids: dict[str, int]) -> str:  # noqa: ANN001
    """Open one of the pages named in PAGES; returns the path it landed on."""
    if where == "walk":  # the round walk: start the first of today's rounds
        page.goto(f"{base}/rounds/today")
        page.locator(".round-card form button").first.click()
        page.wait_for_selector(".checkpoint")
    elif where == "walk-defect":  # the same walk with a defect being described (reasons, photo, note)
        page.locator("button.result-defect").first.click()
        page.wait_for_selector("li.result-defect")
    else:
        response = page.goto(f"{base}{where.format(**ids)}")
        assert response is not None and response.ok, f"{where}: {response and response.status}"
    page.wait_for_load_state("load")
    return page.url.removeprefix(base)


def test_main_pages_of_every_role_have_no_serious_violations(live_server, browser, demo_with_history):
    assert AXE.exists(), "vendored axe-core is missing"
    ids = {"unit": db.session.scalar(sa.select(Unit.id).order_by(Unit.id)),
           "ticket": db.session.scalar(sa.select(RepairTicket.id).order_by(RepairTicket.id)),
           "permit": db.session.scalar(sa.select(DecorationPermit.id).order_by(DecorationPermit.id))}
    assert all(ids.values()), ids
    db.session.commit()  # SQLite: hold no lock while the server answers
    found: list[tuple[str, str, dict]] = []
    checked: list[str] = []
    minor: list[tuple[str, str, dict]] = []
    for username, (viewport, pages) in {"(signed out)": (PHONE, ["/login"]), **PAGES}.items():
        context = browser.new_context(viewport=viewport, locale="zh-TW", bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(60_000)  # history-filled pages on a busy two-core machine
        try:
            if username != "(signed out)":
                sign_in(page, live_server, username)
                page.wait_for_load_state("load")
                assert "/login" not in page.url, f"{username} could not sign in"
            for where in pages:
                landed = visit(page, live_server, where, ids)
                checked.append(f"{username} {landed}" + (f" ({where})" if where.startswith("walk-") else ""))
                violations = run_axe(page)
                found += [(username, landed, v) for v in violations if v["impact"] in BLOCKING]
                minor += [(username, landed, v) for v in violations if v["impact"] not in BLOCKING]
        finally:
            context.close()
    print(f"\naxe-core on {len(checked)} pages: " + ", ".join(checked))
    if minor:
        print(f"{len(minor)} moderate or minor findings (not failing):\n" + describe(minor))
    assert not found, f"{len(found)} serious or critical accessibility violations:\n" + describe(found)


def test_the_vendored_axe_reports_what_it_finds(browser):
    """The injection and the filter work: a page with known faults fails with them named."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    try:
        page.set_content('<html lang="en"><head><title>t</title></head><body><main><h1>t</h1>'
                         '<img src="data:,"><input type="text"></main></body></html>')
        ids = {v["id"] for v in run_axe(page) if v["impact"] in BLOCKING}
    finally:
        context.close()
    assert {"image-alt", "label"} <= ids
