"""What the four weeks of demo history are made of: how often each kind of round finds a defect,
which items, how long a round takes, what the desk and engineering write, the planted repeats."""
from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import datetime

from ..models import (
    DefectRoute,
    RoundKind,
    TeamKind,
)

# --- History: the four weeks before today ---------------------------------------------------
#
# A small simulation, in time order, of what the demo estate's people did: stewards walk their
# rounds through the real sync code (start_round / complete_round: the same checks, the same
# tickets opened or seen again, the same meter flags), photos go through the real pipeline, and
# the desk, engineering and the stewards move the tickets with app.repairs.tickets at the simulated time.
# Nothing happens on or after today's local midnight: today's rounds are still the stewards' to walk.

HISTORY_DAYS = 28
HISTORY_SEED = 20261127
PHOTO_SIZE = (640, 480)

# Chance that a checked item is found defective, per kind of round (a few per cent at most).
DEFECT_RATE = {
    RoundKind.CORRIDOR: 0.008, RoundKind.FACILITY: 0.03, RoundKind.VACANT_UNIT: 0.03,
    RoundKind.DECORATION: 0.008, RoundKind.METER: 0.003,
}
ITEM_WEIGHT = {"COR-LIGHT": 3.0, "COR-HYGIENE": 2.5, "COR-CLUTTER": 2.0, "FAC-GREENERY": 2.0,
               "FAC-PUBLIC-HYGIENE": 2.0, "DEC-COMMON-DEBRIS": 3.0, "DEC-PROTECTION": 2.0, "VAC-BALCONY": 2.0}
MINUTES = {RoundKind.CORRIDOR: (35, 50), RoundKind.FACILITY: (55, 80), RoundKind.VACANT_UNIT: (8, 15),
           RoundKind.DECORATION: (10, 18), RoundKind.METER: (50, 75)}
DAY_ORDER = [RoundKind.DECORATION, RoundKind.CORRIDOR, RoundKind.FACILITY, RoundKind.VACANT_UNIT, RoundKind.METER]

# The estate's teams (名稱, kind, phone), and who in them the desk sends a ticket to.
DEMO_TEAMS = (("工程部", TeamKind.ENGINEERING, "0755-8632 1101"), ("保潔部", TeamKind.CLEANING, "0755-8632 1102"),
              ("綠化部", TeamKind.GREENING, "0755-8632 1103"),
              ("奧的斯電梯維保", TeamKind.OUTSIDE_PARTY, "400-882-0031"),
              ("綠城園林綠化", TeamKind.OUTSIDE_PARTY, "0755-2688 6600"),
              ("外協單位", TeamKind.OUTSIDE_PARTY, ""))
TEAMS = {DefectRoute.ENGINEERING: ["工程部 李志強", "工程部 王師傅"], DefectRoute.CLEANING: ["保潔部 劉阿姨", "保潔部 周師傅"]}
OUTSIDE_PARTIES = {"FAC-ELEVATOR-RUN": "奧的斯電梯維保", "FAC-ELEVATOR-CAR": "奧的斯電梯維保", "FAC-GREENERY": "綠城園林綠化"}
WORK_DONE = {
    "COR-LIGHT": ["更換 LED 燈管", "更換聲控開關", "更換燈罩並緊固"],
    "COR-HYGIENE": ["已清掃並拖洗", "已清除小廣告並擦洗牆面"],
    "COR-CLUTTER": ["雜物已清走", "通知住戶後已移走電動車"],
    "COR-FIRE-DOOR": ["更換閉門器", "調整門扇並上油"],
    "COR-EXIT-SIGN": ["更換疏散指示燈"],
    "COR-FIRE-EQUIPMENT": ["更換到期滅火器", "補齊消火栓箱配件"],
    "COR-WALL-CEILING": ["鏟除起皮處,重新批蕩刷漆"],
    "COR-PIPE-LEAK": ["更換閥門密封圈", "緊固接頭並做防鏽處理"],
    "FAC-GARAGE-DRAINAGE": ["疏通排水溝,清理格柵"],
    "FAC-GARAGE-LIGHT": ["更換車庫燈管"],
    "FAC-ELEVATOR-RUN": ["維保公司更換導靴並調整平層"],
    "FAC-GREENERY": ["修剪枯枝,補種苗木"],
}
WORK_DONE_BY_ROUTE = {DefectRoute.ENGINEERING: "已修復並試用正常", DefectRoute.CLEANING: "已清理完畢",
                      DefectRoute.OUTSIDE_PARTY: "外協單位已處理完畢"}
NOTES = ["近電梯口", "靠窗一側", "住戶反映已有幾天", "已拍照", "樓梯轉角處", ""]
CANCEL_REASONS = ["重複報修,已併入前一張單", "住戶已自行處理", "複查時已恢復正常"]
VERIFY_FAILED = ["複查時仍未修好", "仍有問題,退回維修"]
DESK_COMMENTS = ["已電話通知業主", "已通知工程部跟進", "已提醒保潔加強該處", "下次巡查時重點複查"]


# The breach planted on a decoration check two days ago (a violation noticed for today's re-check).
BREACH_ITEM, BREACH_REASON, BREACH_NOTE = "DEC-PERMIT", "SCOPE-EXCEEDED", "擅自拆改陽台門窗，超出登記範圍"


@dataclass(frozen=True)
class _Planted:
    """A defect that keeps coming back at the same place (seen again on its open ticket)."""

    chance: float
    reason: str
    note: str = ""


def _photo_jpeg(seed: int, stamp: str, taken_local: datetime) -> bytes:
    """A small camera-like JPEG: a scene of blocks and a time stamp, with EXIF capture time."""
    from PIL import ExifTags, Image, ImageDraw

    rng = random.Random(seed)
    w, h = PHOTO_SIZE
    base = [rng.randint(60, 180) for _ in range(3)]
    image = Image.new("RGB", PHOTO_SIZE, tuple(base))
    draw = ImageDraw.Draw(image)
    for y in range(0, h, 12):  # a soft gradient, like light falling off down a corridor
        shade = tuple(max(0, min(255, c - y // 8 + rng.randint(-3, 3))) for c in base)
        draw.rectangle([0, y, w, y + 12], fill=shade)
    for _ in range(6):
        x0, y0 = rng.randint(0, w - 120), rng.randint(0, h - 160)
        colour = tuple(rng.randint(20, 235) for _ in range(3))
        draw.rectangle([x0, y0, x0 + rng.randint(60, 220), y0 + rng.randint(40, 160)], fill=colour)
    draw.ellipse([w // 2 - 40, 30, w // 2 + 40, 70], fill=(250, 245, 210))
    draw.rectangle([0, h - 34, w, h], fill=(0, 0, 0))
    draw.text((12, h - 26), stamp, fill=(255, 255, 255))
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken_local.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()
