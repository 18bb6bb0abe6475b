"""Issue 16, item 12: the landing pages count what waits, each figure a link to the list behind it
(the same number there), and the supervisor's missed rounds are the summaries' own figures."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from html import unescape

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Estate, User
from app.reports import summaries
from app.rounds import schedule


@pytest.fixture
def demo(runner):
    assert runner.invoke(args=["seed-demo", "--history"]).exit_code == 0


def tiles(html: str) -> dict[str, tuple[str, str]]:
    """data-waiting key → (the figure, the link)."""
    found = re.findall(r'data-waiting="(\w+)" href="([^"]+)">\s*<strong class="waiting-count">([^<]+)</strong>', html)
    return {key: (count, unescape(href)) for key, href, count in found}


@pytest.mark.parametrize("username", ["desk1", "super1"])
def test_each_waiting_figure_is_what_its_link_lists(client, auth, demo, username):
    auth.login(username, "xuncha-demo")
    landing = "/desk/" if username == "desk1" else "/desk/supervisor"
    found = tiles(client.get(landing).get_data(as_text=True))
    assert set(found) == {"new_defects", "new_reports", "to_dispatch", "checks_due", "visits_due"}
    assert any(count != "0" for count, _ in found.values())  # the demo has work waiting
    for key, (count, href) in found.items():
        listed = client.get(href)
        assert listed.status_code == 200, href
        html = listed.get_data(as_text=True)
        if key == "new_defects":
            assert "defects_only=1" in href and "unreviewed_only=1" in href
            shown = re.search(r"<strong>([^<]+)</strong>\s*\S+\s*</li>", html).group(1)  # the page's own count
            assert shown == count, key
        else:
            assert html.count('class="card ticket-card') == int(count), (key, href)


def test_supervisor_sees_the_summaries_missed_rounds_per_steward(client, auth, demo):
    estate = db.session.scalars(sa.select(Estate)).one()
    now = datetime.now(timezone.utc)
    period = summaries.Period.containing("month", schedule.local_date(estate, now))
    summary = summaries.estate_summary(db.session, estate, period, now)
    expected = {s.steward.display_name: s.completion.missed for s in summary.stewards if s.completion.missed}

    auth.login("super1", "xuncha-demo")
    html = client.get("/desk/supervisor").get_data(as_text=True)
    shown = {name: int(n) for name, n in re.findall(
        r'class="missed-name">([^<]+)</span>\s*<span class="badge badge-overdue missed-count">\D*(\d+)', html)}
    assert shown == expected
    total = re.search(r'class="count missed-total">(\d+)<', html).group(1)
    assert int(total) == summary.completion_total.missed == sum(expected.values())
    # Each missed round is listed under its steward, and the month's summary is a link away.
    assert html.count("<li>", html.find("missed-list")) >= sum(expected.values())
    assert f"/reports/summary?estate={estate.id}&amp;period=month&amp;start={period.start.isoformat()}" in html
    if not expected:
        assert "本月沒有漏巡" in html


def test_missed_rounds_listed_per_steward_are_the_counted_ones(app, demo):
    estate = db.session.scalars(sa.select(Estate)).one()
    now = datetime.now(timezone.utc)
    period = summaries.Period.containing("month", schedule.local_date(estate, now))
    for s in summaries.round_completion(db.session, estate, period, now):
        assert len(s.missed) == s.completion.missed
        today = schedule.local_date(estate, now)
        assert all(m.occurrence.end <= today and period.start <= m.occurrence.start < period.end for m in s.missed)
        assert isinstance(s.steward, User)
