"""The findings CSV for Excel (/desk/findings.csv): the filtered findings with a BOM, a bounded date
range, read in batches, corrections as they stand."""
from __future__ import annotations

import csv
import io
import uuid as uuidlib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from app import review
from app.extensions import db
from app.models import RoundKind, UnitState
from app.repairs import tickets
from app.rounds import intake

from tests import factories
from tests.review.review_helpers import DAY, DEFECT, FINE, walked


# --- CSV -----------------------------------------------------------------------------------


def read_csv(response):
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese text right
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_of_the_filtered_findings(client, auth, world):
    w = world
    a = walked(w["amy"], w["mine"], DAY, [FINE, DEFECT], building=w["b1"], note="樓道燈不亮，已報修",
               item_code="COR-LIGHT")
    a[1].note = "=HYPERLINK(\"http://evil\")"
    walked(w["bob"], w["mine"], DAY - timedelta(days=40), [DEFECT], building=w["b2"])
    rnd_unit = factories.unit(w["b2"], "2-301", state=UnitState.VACANT)
    walked(w["amy"], w["mine"], DAY, [DEFECT], building=w["b2"], kind=RoundKind.VACANT_UNIT, unit=rnd_unit)
    ticket = tickets.ticket_for_defect(db.session, a[1])
    a[0].reviewed_at = datetime(2026, 11, 24, 6, 30, tzinfo=timezone.utc)
    auth.login("desk")
    response = client.get(f"/desk/findings.csv?date_from={DAY - timedelta(days=7)}&date_to={DAY}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    header, rows = rows[0], rows[1:]
    assert len(header) == 13 and all(len(r) == 13 for r in rows)
    assert len(rows) == 3  # the round 40 days ago is outside the range
    by_note = {r[10]: r for r in rows}
    fine = by_note["樓道燈不亮，已報修"]
    assert fine[:3] == ["翠湖花園", "1棟", "1梯 1F"] and fine[4] == DAY.isoformat() and fine[5] == "管家甲"
    assert fine[7] and fine[8] == "" and fine[9] == ""  # a fine answer: no reading, no reason
    assert fine[12] == "2026-11-24 14:30"  # reviewed, in the estate's time
    injected = by_note["'=HYPERLINK(\"http://evil\")"]  # quoted: Excel shows it as text, never runs it
    assert injected[11] == ticket.number and injected[9]  # the ticket and the reason
    unit_row = next(r for r in rows if r[2] == "2-301")
    assert unit_row[1] == "2棟"
    defects = read_csv(client.get(f"/desk/findings.csv?date_from={DAY}&date_to={DAY}&defects_only=1"))[1:]
    assert len(defects) == 2


@pytest.mark.parametrize("query", ["", "date_from=2026-01-01", "date_to=2026-01-01",
                                   "date_from=2025-01-01&date_to=2026-01-02", "date_from=bad&date_to=2026-01-01"])
def test_csv_without_a_bounded_range_is_refused(client, auth, world, query):
    walked(world["amy"], world["mine"], DAY, [FINE], building=world["b1"])
    auth.login("desk")
    response = client.get(f"/desk/findings.csv?{query}")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    assert 'class="flash flash-error" role="alert"' in response.get_data(as_text=True)


def test_csv_reads_in_batches_and_keeps_the_order(world, monkeypatch):
    w = world
    for n in range(4):
        walked(w["amy"], w["mine"], DAY - timedelta(days=n), [FINE] * 5, building=w["b1"])
    flt = review.ReviewFilter(date_from=DAY - timedelta(days=10), date_to=DAY)
    selection = review.select_findings(db.session, w["desk"], flt)
    expected = [f.round.local_date.isoformat() for f in review.review_page(db.session, w["desk"], flt, limit=100).findings]
    db.session.commit()
    with Session(db.engine) as session:  # as the CSV view reads: its own session, emptied per batch
        rows = list(review.export_rows(session, selection, "zh_Hant", batch=3))
    assert [r[4] for r in rows] == expected and len(rows) == 20


def test_a_corrected_answer_is_shown_and_exported_as_it_stands(client, auth, world):
    found = walked(world["amy"], world["mine"], DAY, [DEFECT], building=world["b1"], item_code="COR-LIGHT")
    intake.amend_finding(db.session, world["desk"], found[0].uuid, uuid=str(uuidlib.uuid4()), result=FINE, why="燈已修好", note="複查正常")
    auth.login("desk")
    html = client.get("/desk/findings").get_data(as_text=True)
    assert 'class="card finding result-fine"' in html and "複查正常" in html
    rows = read_csv(client.get(f"/desk/findings.csv?date_from={DAY}&date_to={DAY}"))[1:]
    assert len(rows) == 1 and rows[0][10] == "複查正常" and rows[0][9] == ""  # fine now: no reason
