"""The manual's checklists: valid data files, versions that change only when a file changes."""
from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ChecklistVersion, DefectRoute, ItemType, Role, RoundKind
from app.rounds.checklists import (
    DATA_DIR,
    ChecklistFileError,
    latest_version,
    read_all,
    sync_checklists,
)

from tests import factories


def test_every_round_kind_has_a_valid_checklist_file():
    files = read_all()
    assert set(files) == set(RoundKind)
    for kind, f in files.items():
        assert f.data["items"], kind


@pytest.mark.parametrize(
    ("kind", "manual_labels"),
    [
        (RoundKind.CORRIDOR, ["樓道照明", "樓道衛生"]),
        (RoundKind.FACILITY, ["透水磚", "井蓋", "兒童", "路沿石", "電梯", "可視對講"]),
        (RoundKind.VACANT_UNIT, ["門窗", "水閥", "電源", "陽臺", "漏水"]),
        (RoundKind.DECORATION, ["閉水試驗", "防水"]),
    ],
)
def test_the_manuals_items_come_first(kind, manual_labels):
    items = read_all()[kind].data["items"]
    origins = [i["origin"] for i in items]
    assert origins == sorted(origins, key=lambda o: o != "manual"), "manual items before trade items"
    manual_text = " ".join(i["label"]["zh_Hant"] + ((i.get("hint") or {}).get("zh_Hant", ""))
                           for i in items if i["origin"] == "manual")
    for label in manual_labels:
        assert label in manual_text, label


def test_routes_follow_the_manual():
    corridor = {i["code"]: i for i in read_all()[RoundKind.CORRIDOR].data["items"]}
    assert corridor["COR-LIGHT"]["route"] is DefectRoute.ENGINEERING
    assert corridor["COR-HYGIENE"]["route"] is DefectRoute.CLEANING
    decoration = read_all()[RoundKind.DECORATION].data["items"]
    assert {i["route"] for i in decoration} == {DefectRoute.DECORATION_VIOLATION}
    assert all(i["photo_required"] for i in decoration)
    meter_types = {i["code"]: i["type"] for i in read_all()[RoundKind.METER].data["items"]}
    assert meter_types["MTR-WATER"] is ItemType.READING and meter_types["MTR-POWER"] is ItemType.READING


def test_sync_stores_version_one_then_nothing_while_files_are_unchanged(app):
    # The test database's template already ran the sync once.
    assert {v.kind for v in db.session.scalars(sa.select(ChecklistVersion))} == set(RoundKind)
    assert all(latest_version(db.session, k).version == 1 for k in RoundKind)
    assert sync_checklists(db.session) == []


def _copy_data(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_a_changed_file_makes_a_new_version_and_old_rounds_keep_theirs(app, tmp_path):
    estate = factories.estate()
    b = factories.building(estate)
    steward = factories.user(Role.STEWARD, estates=[estate])
    old_round = factories.round_(RoundKind.CORRIDOR, steward, estate, date(2026, 11, 24), building_=b)
    old_items = [i.code for i in old_round.checklist_version.items]

    data = _copy_data(tmp_path)
    corridor = json.loads((data / "corridor.json").read_text(encoding="utf-8"))
    new_item = dict(corridor["items"][0], code="COR-NEW-ITEM", origin="trade")
    corridor["items"].append(new_item)
    (data / "corridor.json").write_text(json.dumps(corridor, ensure_ascii=False), encoding="utf-8")

    created = sync_checklists(db.session, data)
    assert [(v.kind, v.version) for v in created] == [(RoundKind.CORRIDOR, 2)]
    assert [i.code for i in latest_version(db.session, RoundKind.CORRIDOR).items][-1] == "COR-NEW-ITEM"
    db.session.refresh(old_round)
    assert old_round.checklist_version.version == 1
    assert [i.code for i in old_round.checklist_version.items] == old_items
    assert sync_checklists(db.session, data) == []


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["items"].append(dict(d["items"][0])), "duplicate item codes"),
        (lambda d: d["items"][0]["label"].pop("en"), "en"),
        (lambda d: d["items"][0].update(route="nowhere"), "route"),
        (lambda d: d["items"][0].update(applies_to="roof"), "applies_to"),
        (lambda d: d["items"][0].update(code="lower-case"), "UPPER-KEBAB"),
        (lambda d: d.update(kind="meter"), "for meter"),
    ],
)
def test_a_broken_file_is_refused_with_its_name_and_reason(app, tmp_path, mutate, message):
    data = _copy_data(tmp_path)
    corridor = json.loads((data / "corridor.json").read_text(encoding="utf-8"))
    mutate(corridor)
    (data / "corridor.json").write_text(json.dumps(corridor, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ChecklistFileError) as info:
        sync_checklists(db.session, data)
    assert "corridor.json" in str(info.value) and message in str(info.value)
    assert latest_version(db.session, RoundKind.CORRIDOR).version == 1
