"""Checklists in the browser: the company's own version of each checklist (items, reasons, required
flags, labels in three languages, refused until each has its Traditional Chinese), a phone-sized
preview, publishing a new version that rounds started afterwards walk (older rounds keep theirs,
phones take it with their next offline pack), an estate's own version or the company's; the
manual's data files keep loading, and never over the company's own."""
from __future__ import annotations

import json
import re
import shutil
from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.extensions import db
from app.models import ChecklistVersion, Role, RoundKind
from app.models.base import new_uuid
from app.refusals import Conflict, Rejected
from app.rounds import intake
from app.rounds.checklists import (
    DATA_DIR,
    edited_in_browser,
    editor,
    latest_version,
    sync_checklists,
)

from .. import factories
from ..conftest import csrf_from


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English messages (tests/test_i18n.py checks the other languages): of the
    pages, and of the operations' refusals read here."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with force_locale("en"):
        yield


@pytest.fixture
def world(app):
    estate = factories.estate("翠湖花園")
    building = factories.building(estate, "1棟")
    factories.entrance(building)
    other = factories.estate("別苑")
    other_building = factories.building(other, "9棟")
    factories.entrance(other_building)
    steward = factories.user(Role.STEWARD, username="amy", estates=[estate, other])
    factories.user(Role.ADMIN, username="boss")
    db.session.commit()
    return dict(estate=estate, building=building, other=other, other_building=other_building, steward=steward)


def _unescape(text: str) -> str:
    return (text.replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"')
            .replace("&amp;", "&"))


def form_of(html: str) -> dict:
    """Every field of the editor form as the browser would post it (checkboxes ticked as shown)."""
    html = html[html.index('class="checklist-editor"'):]
    data: dict[str, list[str]] = {}
    for name, body in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data.setdefault(name, []).append(_unescape(body))
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body) or re.search(r'<option value="([^"]*)"', body)
        data.setdefault(name, []).append(chosen.group(1))
    for attrs in re.findall(r"<input\b([^>]*)>", html):
        name = re.search(r'name="([^"]+)"', attrs)
        typ = re.search(r'type="([^"]+)"', attrs)
        value = re.search(r'value="([^"]*)"', attrs)
        if not name or (typ and typ.group(1) in ("checkbox", "radio") and "checked" not in attrs):
            continue
        data.setdefault(name.group(1), []).append(_unescape(value.group(1)) if value else "")
    return data


def editor_form(client, path: str) -> dict:
    html = client.get(path).get_data(as_text=True)
    data = form_of(html)
    data["csrf_token"] = [csrf_from(html)]
    return data


def test_the_administrator_publishes_the_companys_own_version(client, auth, world):
    auth.login("boss")
    v1 = latest_version(db.session, RoundKind.CORRIDOR)
    before = factories.round_(RoundKind.CORRIDOR, world["steward"], world["estate"], date(2026, 12, 1),
                              building_=world["building"])
    data = editor_form(client, "/admin/checklists/corridor")
    rows = int(data["rows"][0])
    assert rows == len(v1.items) + 1  # and one empty row for a new item
    assert data["item-0-label_zh_Hant"] == [v1.items[0].label_zh_hant]
    assert data["item-0-reasons"][0].startswith(f"{v1.items[0].reasons[0]['code']} | ")
    new = rows - 1
    data.update({
        "item-0-label_zh_Hant": ["樓道燈具"], "item-0-label_en": [""],  # an English label left out
        "item-1-remove": ["1"],
        f"item-{new}-label_zh_Hant": ["消防栓"], f"item-{new}-label_zh_Hans": ["消防栓"],
        f"item-{new}-label_en": ["Fire hydrant"], f"item-{new}-applies_to": ["floor"],
        f"item-{new}-required": ["1"], f"item-{new}-photo_required": ["1"],
        f"item-{new}-reasons": ["水帶缺失 | 水带缺失 | Hose missing\n箱門損壞"], f"item-{new}-position": ["1"],
    })
    preview = client.post("/admin/checklists/corridor", data={**data, "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, re.findall(r'field-error">([^<]*)', html)
    assert "phone-preview" in html and "消防栓" in html and "Hose missing" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChecklistVersion)) == len(RoundKind)
    published = client.post("/admin/checklists/corridor", data={**data, "action": "publish"})
    assert published.status_code == 302, published.get_data(as_text=True)[:2000]
    v2 = latest_version(db.session, RoundKind.CORRIDOR)
    assert v2.version == 2 and not v2.from_file and v2.publication.estate_id is None
    codes = [i.code for i in v2.items]
    assert codes[0] == "COR-C1" and v1.items[1].code not in codes and len(codes) == len(v1.items)
    hydrant = v2.items[0]
    assert (hydrant.label_zh_hant, hydrant.label_en, hydrant.photo_required) == ("消防栓", "Fire hydrant", True)
    assert hydrant.reasons == [
        {"code": "R1", "label": {"zh_Hant": "水帶缺失", "zh_Hans": "水带缺失", "en": "Hose missing"}},
        {"code": "R2", "label": {"zh_Hant": "箱門損壞", "zh_Hans": "", "en": ""}}]
    lights = next(i for i in v2.items if i.code == v1.items[0].code)
    assert lights.label("en") == "樓道燈具" and lights.label("zh_Hant") == "樓道燈具"  # reads in Traditional Chinese
    # Rounds started afterwards walk it; the one walked before keeps version 1.
    after = intake.start_round(db.session, world["steward"], uuid=new_uuid(), kind=RoundKind.CORRIDOR,
                               estate_id=world["estate"].id, building_id=world["building"].id)
    assert after.checklist_version.version == 2
    db.session.refresh(before)
    assert before.checklist_version.version == 1
    # The phone takes it with its next offline pack.
    db.session.commit()
    client.post("/logout", data={"csrf_token": data["csrf_token"][0]})
    auth.login("amy")
    pack = client.get("/api/v1/offline-pack").get_json()
    corridor = [p for p in pack["plans"].values() if p["checklist"].startswith("corridor:")]
    assert corridor and all(p["checklist"] == "corridor:2" for p in corridor)
    item = next(i for i in pack["checklists"]["corridor:2"]["items"] if i["code"] == lights.code)
    assert item["label"] == {"zh_Hant": "樓道燈具", "zh_Hans": lights.label_zh_hans, "en": "樓道燈具"}


@pytest.mark.parametrize(("change", "message"), [
    ({"item-0-label_zh_Hant": [""]}, "Item 1 (—): the Traditional Chinese is missing."),
    ({"title_zh_Hant": [""]}, "Title: the Traditional Chinese is missing."),
    ({"item-0-reasons": [" | 简体 | English"]}, "line 1: the Traditional Chinese is missing."),
    ({"item-0-reasons": ["bad code | 燈 | 灯 | Light"]}, "bad code is not a code"),
    ({"item-0-reasons": ["A | 燈 | 灯 | Light\nA | 燈 | 灯 | Light"]}, "the code A is used twice"),
    ({"item-0-label_zh_Hant": ["燈" * 121]}, "at most 120 characters"),
    ({"item-0-applies_to": ["roof"]}, "choose where it is asked"),
])
def test_a_wrong_checklist_is_refused_saying_where_and_nothing_is_published(client, auth, world, change, message):
    auth.login("boss")
    data = editor_form(client, "/admin/checklists/corridor")
    for action in ("preview", "publish"):
        response = client.post("/admin/checklists/corridor", data={**data, **change, "action": action})
        assert response.status_code == 422 and message in response.get_data(as_text=True).replace("&#39;", "'")
    assert latest_version(db.session, RoundKind.CORRIDOR).version == 1


def test_removing_every_item_is_refused(client, auth, world):
    auth.login("boss")
    data = editor_form(client, "/admin/checklists/meter")
    rows = int(data["rows"][0])
    data.update({f"item-{i}-remove": ["1"] for i in range(rows - 1)})
    response = client.post("/admin/checklists/meter", data={**data, "action": "publish"})
    assert response.status_code == 422 and "at least one item" in response.get_data(as_text=True)


def test_a_version_published_meanwhile_is_not_overwritten_and_nothing_changed_is_refused(client, auth, world):
    auth.login("boss")
    data = editor_form(client, "/admin/checklists/vacant_unit")
    unchanged = client.post("/admin/checklists/vacant_unit", data={**data, "action": "publish"})
    assert unchanged.status_code == 422 and "Nothing changed since version 1." in unchanged.get_data(as_text=True)
    first = {**data, "item-0-label_zh_Hant": ["門窗"]}
    assert client.post("/admin/checklists/vacant_unit", data={**first, "action": "publish"}).status_code == 302
    second = {**data, "item-0-label_zh_Hant": ["門窗完好"]}  # built from version 1 too
    stale = client.post("/admin/checklists/vacant_unit", data={**second, "action": "publish"})
    assert stale.status_code == 409 and "was published by someone else" in stale.get_data(as_text=True)
    assert latest_version(db.session, RoundKind.VACANT_UNIT).items[0].label_zh_hant == "門窗"


def test_an_estate_walks_its_own_version_or_the_companys(client, auth, world):
    estate, other = world["estate"], world["other"]
    auth.login("boss")
    path = f"/admin/checklists/corridor?estate={estate.id}"
    page = client.get(path).get_data(as_text=True)
    assert "has no version of its own yet" in page
    data = editor_form(client, path)
    data["item-0-label_zh_Hant"] = ["本小區的樓道照明"]
    assert client.post(path, data={**data, "action": "publish"}).status_code == 302
    own = latest_version(db.session, RoundKind.CORRIDOR, estate.id)
    assert own.publication.estate_id == estate.id and own.items[0].label_zh_hant == "本小區的樓道照明"
    assert latest_version(db.session, RoundKind.CORRIDOR).version == 1  # the company's is as it was
    assert latest_version(db.session, RoundKind.CORRIDOR, other.id).version == 1

    steward = world["steward"]
    mine = intake.start_round(db.session, steward, uuid=new_uuid(), kind=RoundKind.CORRIDOR, estate_id=estate.id,
                              building_id=world["building"].id)
    theirs = intake.start_round(db.session, steward, uuid=new_uuid(), kind=RoundKind.CORRIDOR, estate_id=other.id,
                                building_id=world["other_building"].id)
    assert (mine.checklist_version.version, theirs.checklist_version.version) == (own.version, 1)
    # A phone cannot walk one estate's own version in another estate.
    with pytest.raises(Rejected):
        intake.start_round(db.session, steward, uuid=new_uuid(), kind=RoundKind.CORRIDOR, estate_id=other.id,
                           building_id=world["other_building"].id, checklist_version=own.version)
    db.session.commit()

    token = csrf_from(client.get(path).get_data(as_text=True))
    assert client.post(f"/admin/checklists/corridor/choice?estate={estate.id}",
                       data={"csrf_token": token, "own": "0"}).status_code == 302
    assert latest_version(db.session, RoundKind.CORRIDOR, estate.id).version == 1
    assert client.post(f"/admin/checklists/corridor/choice?estate={estate.id}",
                       data={"csrf_token": token, "own": "1"}).status_code == 302
    assert latest_version(db.session, RoundKind.CORRIDOR, estate.id).version == own.version
    refused = client.post(f"/admin/checklists/meter/choice?estate={other.id}", data={"csrf_token": token, "own": "1"})
    assert "has no checklist of its own yet" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert client.get("/admin/checklists/corridor?estate=99999").status_code == 404
    assert client.get("/admin/checklists/nothing").status_code == 404


def test_the_data_files_keep_loading_but_never_over_the_companys_own(app, world, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(DATA_DIR, data_dir)
    corridor = json.loads((data_dir / "corridor.json").read_text(encoding="utf-8"))
    corridor["items"].append(dict(corridor["items"][0], code="COR-FROM-FILE", origin="trade"))
    (data_dir / "corridor.json").write_text(json.dumps(corridor, ensure_ascii=False), encoding="utf-8")
    meter = json.loads((data_dir / "meter.json").read_text(encoding="utf-8"))
    meter["items"][0]["label"]["en"] = "Water meter (changed in the file)"
    (data_dir / "meter.json").write_text(json.dumps(meter, ensure_ascii=False), encoding="utf-8")

    document = editor.document_of(latest_version(db.session, RoundKind.CORRIDOR))
    edited = editor.Edited.of(document)
    edited.items[0].label["zh_Hant"] = "公司自訂"
    editor.publish(db.session, None, RoundKind.CORRIDOR, None, edited,
                   base=editor.base_of(db.session, RoundKind.CORRIDOR, None))
    created = sync_checklists(db.session, data_dir)
    assert [(v.kind, v.version) for v in created] == [(RoundKind.METER, 2)]  # the manual's file still loads
    assert latest_version(db.session, RoundKind.CORRIDOR).items[0].label_zh_hant == "公司自訂"
    assert [v.kind for v in edited_in_browser(db.session, data_dir)] == [RoundKind.CORRIDOR]
    assert sync_checklists(db.session, data_dir) == []


def test_publishing_refuses_a_stale_base_in_the_operation_too(world):
    edited = editor.Edited.of(editor.document_of(latest_version(db.session, RoundKind.METER)))
    edited.items[0].label["zh_Hant"] = "水錶"
    with pytest.raises(Conflict):
        editor.publish(db.session, None, RoundKind.METER, None, edited, base="none")


def test_the_add_button_gives_another_empty_row(client, auth, world):
    auth.login("boss")
    data = editor_form(client, "/admin/checklists/meter")
    rows = int(data["rows"][0])
    html = client.post("/admin/checklists/meter", data={**data, "action": "add",
                                                        f"item-{rows - 1}-label_zh_Hant": ["錶箱封條"]}).get_data(as_text=True)
    assert f'name="rows" value="{rows + 1}"' in html and 'value="錶箱封條"' in html
