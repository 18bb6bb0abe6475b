"""Issue 16, item 14: the audit log reads as sentences in the reader's language: field names as
labels, values as labels, times in the estate's zone; no "None", no raw ISO timestamps."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from flask_babel import force_locale

from app.audit import sentences

ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@pytest.fixture
def demo(runner):
    assert runner.invoke(args=["seed-demo", "--history"]).exit_code == 0


def entries_text(html: str) -> str:
    start = html.find('class="cards audit-entries"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html[start:] if start >= 0 else ""))


def test_ticket_changes_read_as_sentences_in_chinese_and_english(client, auth, demo):
    auth.login("super1", "xuncha-demo")
    html = client.get("/audit?entity=repair_ticket&action=updated").get_data(as_text=True)
    text = entries_text(html)
    assert "更改了工程維修單 WX-" in text
    assert re.search(r"狀態：\S+ → 已結案", text) and re.search(r"已結案：— → \d+月\d+日 \d\d:\d\d", text)
    for raw in ("None", "status:", "closed_at", "+00:00", "維修前", "維修後"):
        assert raw not in text, raw
    assert not ISO.search(text)
    client.post("/language", data={"lang": "en", "csrf_token": auth.csrf()})
    text = entries_text(client.get("/audit?entity=repair_ticket&action=updated").get_data(as_text=True))
    assert "changed Repair ticket WX-" in text or "changed repair ticket WX-" in text
    assert re.search(r"Status: \S.* → Closed", text) and "None" not in text and not ISO.search(text)


def test_created_records_list_what_they_hold_not_their_empty_fields(client, auth, demo):
    auth.login("super1", "xuncha-demo")
    text = entries_text(client.get("/audit?entity=round&action=created").get_data(as_text=True))
    assert "建立了巡查" in text and re.search(r"管家：管家 \S+", text)  # the steward by name, not by id
    assert "None" not in text and not ISO.search(text) and "—" not in text


def test_values_as_a_reader_reads_them(app):
    with app.test_request_context(), force_locale("zh_Hant"):
        moment = datetime(2026, 12, 7, 16, 18, 32, tzinfo=timezone.utc).isoformat()
        assert sentences.value_text("repair_ticket", "closed_at", moment, "Asia/Shanghai", {}) == "12月8日 00:18"
        assert sentences.value_text("repair_ticket", "closed_at", None, "Asia/Shanghai", {}) == "—"
        assert sentences.value_text("repair_ticket", "status", "closed", "Asia/Shanghai", {}) == "已結案"
        assert sentences.value_text("finding", "reviewed_by_id", 7, "Asia/Shanghai", {7: "黃美玲"}) == "黃美玲"
        assert sentences.value_text("team", "active", False, "Asia/Shanghai", {}) == "否"
        assert sentences.value_text("round", "local_date", "2026-12-07", "Asia/Shanghai", {}).startswith("12月7日")
