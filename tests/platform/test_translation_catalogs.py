"""The translation catalogs: one per language, complete, nothing fuzzy, really Chinese where Chinese.

The tests extract the messages from the code and templates as they are now (the same extraction as
`make extract-messages`), so a string added without a translation fails here."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.config import PROJECT_ROOT
from app.i18n import DEFAULT, LANGUAGES


TRANSLATIONS = PROJECT_ROOT / "translations"
CHINESE = ("zh_Hant", "zh_Hans")
# As in the Makefile: pybabel extract -F babel.cfg -k _l (the default keywords as well).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")


# --- the catalogs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Extracted:
    ids: tuple[str, ...]  # (msgid,) or (singular, plural)
    where: str  # the first place it was found, e.g. templates/base.html:8


def extracted_messages() -> dict[tuple[str, str | None], Extracted]:
    """Every message in app/ and templates/ as they are now, by (msgid, context)."""
    with (PROJECT_ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[tuple[str, str | None], Extracted] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        ids = (message,) if isinstance(message, str) else tuple(message)
        found.setdefault((ids[0], context), Extracted(ids, f"{filename}:{lineno}"))
    return found


def load_catalog(lang: str):
    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    assert path.is_file(), f"no catalog {path}: run `make extract-messages` and translate"
    with path.open("rb") as f:
        return read_po(f, locale=lang)


@pytest.fixture(scope="module")
def messages():
    found = extracted_messages()
    assert len(found) > 30, "the extraction found (almost) nothing: is babel.cfg still right?"
    return found


@pytest.fixture(scope="module")
def catalogs():
    return {lang: load_catalog(lang) for lang in LANGUAGES}


def placeholders(text: str) -> Counter:
    return Counter(m for m in PLACEHOLDER.findall(text) if m != "%%")


def has_cjk(text: str) -> bool:
    return any(unicodedata.name(ch, "").startswith("CJK") for ch in text)


def test_there_is_one_catalog_per_language():
    assert sorted(LANGUAGES) == sorted(["zh_Hant", "zh_Hans", "en"])
    assert DEFAULT == "zh_Hant"
    for lang in LANGUAGES:
        catalog = load_catalog(lang)
        assert str(catalog.locale).replace("_", "-").lower() == lang.replace("_", "-").lower()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_in_the_code_is_translated(messages, catalogs, lang):
    catalog = catalogs[lang]
    problems = []
    for (msgid, context), found in sorted(messages.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        ids, where = found.ids, found.where
        entry = catalog.get(msgid, context)
        if entry is None:
            problems.append(f"missing: {msgid!r} ({where})")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        strings = entry.string if isinstance(entry.string, (tuple, list)) else (entry.string,)
        if len(ids) > 1 and not isinstance(entry.string, (tuple, list)):
            problems.append(f"plural forms missing: {msgid!r}")
        if not strings or not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {msgid!r} ({where})")
            continue
        if lang in CHINESE:
            for s in strings:
                if placeholders(s) != placeholders(msgid):
                    problems.append(f"placeholders differ: {msgid!r} → {s!r}")
    assert not problems, f"{lang}: {len(problems)} problem(s); run `make extract-messages` and translate:\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_entry_is_fuzzy(catalogs, lang):
    fuzzy = [m.id for m in catalogs[lang] if m.id and m.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy entries {fuzzy}"


@pytest.mark.parametrize("lang", CHINESE)
def test_chinese_catalogs_are_really_chinese(messages, catalogs, lang):
    catalog = catalogs[lang]
    english = []
    for msgid, context in messages:
        entry = catalog.get(msgid, context)
        if entry is None:
            continue  # reported by the completeness test
        strings = entry.string if isinstance(entry.string, (tuple, list)) else (entry.string,)
        text = "".join(s or "" for s in strings)
        if text.strip() == msgid.strip() or not has_cjk(text):
            english.append(msgid)
    # A message that is only a placeholder or a number may stay as it is; nearly all others must not.
    assert len(english) <= max(2, len(messages) // 20), f"{lang}: not translated into Chinese: {english}"


def test_traditional_and_simplified_are_not_the_same_text(messages, catalogs):
    differ = sum(
        1
        for msgid, context in messages
        if (a := catalogs["zh_Hant"].get(msgid, context)) is not None
        and (b := catalogs["zh_Hans"].get(msgid, context)) is not None
        and a.string != b.string
    )
    # Many short terms are written alike (出租, 空置, 抄表); whole sentences are not.
    assert differ >= len(messages) // 3


@pytest.mark.parametrize(
    ("msgid", "zh_hant", "zh_hans"),
    [
        ("Corridor round", "樓道巡查", "楼道巡查"),
        ("Public-facility round", "公共設施巡查", "公共设施巡查"),
        ("Vacant-unit check", "空置房屋檢查", "空置房屋检查"),
        ("Decoration daily check", "二次裝修日檢", "二次装修日检"),
        ("Meter reading", "抄表", "抄表"),
        ("Building steward", "樓宇客服管家", "楼宇客服管家"),
        ("Supervisor", "客服主管", "客服主管"),
        ("Vacant", "空置", "空置"),
        ("Decorating", "裝修中", "装修中"),
    ],
)
def test_the_manuals_words_are_used(catalogs, msgid, zh_hant, zh_hans):
    assert catalogs["zh_Hant"].get(msgid).string == zh_hant
    assert catalogs["zh_Hans"].get(msgid).string == zh_hans
