"""Issue 16, item 13: on a phone at most five tabs show (four and "More"), the page's own always
among them; the rest are in the menu; nothing is lost or shown twice."""
from __future__ import annotations

import re

import pytest

from app.models import Role
from app.navigation import PHONE_TABS, TABS, navigation_for

from tests import factories


@pytest.mark.parametrize("role", sorted(TABS))
def test_every_page_of_every_role_keeps_its_tab_in_the_phone_bar(app, role):
    with app.test_request_context():
        for spec in TABS[role]:
            if spec.endpoint not in app.view_functions:
                continue
            for endpoint in (spec.endpoint, *(a for a in spec.also if not a.endswith("."))):
                nav = navigation_for(role, endpoint)
                slots = len(nav.phone) + (1 if nav.more else 0)
                assert slots <= PHONE_TABS, (role, endpoint)
                active = [t for t in nav.tabs if t.active]
                assert len(active) == 1, (role, endpoint)
                assert active[0] in nav.phone, (role, endpoint)
                assert sorted(t.url for t in nav.phone + nav.more) == sorted(t.url for t in nav.tabs)
                assert len({t.url for t in nav.tabs}) == len(nav.tabs)  # no tab twice


def test_the_phone_keeps_the_roles_first_tabs_when_the_page_is_one_of_them(app):
    with app.test_request_context():
        nav = navigation_for("desk", "dashboard.index")
        assert [t.url for t in nav.phone] == [t.url for t in nav.tabs[:PHONE_TABS - 1]]
        audit = navigation_for("supervisor", "audit.index")
        assert audit.phone[-1].active and audit.phone[-1].url == "/audit"
        assert audit.phone[:3] == audit.tabs[:3]


@pytest.mark.parametrize(("role", "path"), [(Role.DESK, "/desk/"), (Role.SUPERVISOR, "/audit"),
                                             (Role.SUPERVISOR, "/tickets/overdue")])
def test_the_page_renders_a_bar_and_a_menu(client, auth, world, role, path):
    auth.login(factories.user(role, estates=[world["estate"]]).username)
    html = client.get(path).get_data(as_text=True)
    phone = html[html.index('class="tabs-phone"'):html.index("</nav>")]
    bar = phone[:phone.index('class="tabs-more"')]
    assert len(re.findall(r"<a ", bar)) == PHONE_TABS - 1
    assert 'aria-current="page"' in bar
    assert "<summary>" in phone and len(re.findall(r"<a ", phone)) > PHONE_TABS - 1
