"""Issue 16, item 9: the exports take the dates as typed (the findings' CSV button sends the form as
it stands, applied or not); a refusal keeps what was typed; the ticket export opens without an error."""
from __future__ import annotations

import re

from tests.review.review_helpers import DAY, DEFECT, walked


def test_the_findings_csv_button_sends_the_form_as_it_stands(client, auth, world):
    auth.login("desk")
    html = client.get("/desk/findings").get_data(as_text=True)
    form = html[html.index('class="panel review-filters"'):html.index("</form>", html.index('class="panel review-filters"'))]
    assert 'formaction="/desk/findings.csv"' in form and 'type="submit"' in form
    assert "findings.csv?" not in html  # no link carrying yesterday's applied filter


def test_a_refused_csv_keeps_the_dates_and_boxes_as_typed(client, auth, world):
    walked(world["amy"], world["mine"], DAY, [DEFECT], building=world["b1"])
    auth.login("desk")
    answer = client.get("/desk/findings.csv?date_from=2026-11-01&date_to=&defects_only=1&kind=corridor")
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'name="date_from" value="2026-11-01"' in html
    assert 'name="defects_only" value="1" checked' in html and 'value="corridor" selected' in html
    bad = client.get("/desk/findings.csv?date_from=2026-13-01&date_to=2026-11-30&unreviewed_only=1")
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert 'name="date_from" value="2026-13-01"' in html and 'name="date_to" value="2026-11-30"' in html
    assert 'name="unreviewed_only" value="1" checked' in html
    good = client.get(f"/desk/findings.csv?date_from={DAY}&date_to={DAY}&defects_only=1")
    assert good.status_code == 200 and good.headers["Content-Type"].startswith("text/csv")


def test_the_ticket_export_opens_without_an_error_and_keeps_what_was_typed(client, auth, world):
    auth.login("desk")
    first = client.get("/tickets/export.csv")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert "flash-error" not in html and "field-error" not in html and 'role="alert"' not in html
    answer = client.get("/tickets/export.csv?from=2026-11-01&to=")
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'value="2026-11-01"' in html
    assert re.search(r'id="to-error">[^<]+<', html) and 'id="from-error"' not in html
    backwards = client.get("/tickets/export.csv?from=2026-11-10&to=2026-11-01").get_data(as_text=True)
    assert 'id="to-error"' in backwards and 'value="2026-11-10"' in backwards and 'value="2026-11-01"' in backwards
