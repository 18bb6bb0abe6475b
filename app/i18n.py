"""Language choice: the user's own setting, then this browser's choice, then Accept-Language."""
from __future__ import annotations

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from .extensions import babel
from .models import Language

LANGUAGES = [lang.value for lang in Language]
DEFAULT = Language.ZH_HANT.value
# Names shown in the switcher, each in its own language.
LANGUAGE_NAMES = {"zh_Hant": "繁體中文", "zh_Hans": "简体中文", "en": "English"}


def language_from_header(header: str | None) -> str | None:
    """Map an Accept-Language header to one of our languages (zh-TW → zh_Hant, zh-CN → zh_Hans)."""
    if not header:
        return None
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighted.append((-q, position, tag.strip().lower().replace("_", "-")))
    for _q, _pos, tag in sorted(weighted):
        if _q == 0:
            continue
        sub = tag.split("-")
        if sub[0] == "zh":
            if any(s in ("hans", "cn", "sg", "my") for s in sub[1:]):
                return "zh_Hans"
            return "zh_Hant"
        if sub[0] == "en":
            return "en"
    return None


def select_locale() -> str:
    if not has_request_context():  # CLI, background work: the manual's language
        return DEFAULT
    if current_user and current_user.is_authenticated and current_user.language:
        return current_user.language.value
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return language_from_header(request.headers.get("Accept-Language")) or DEFAULT


def current_language() -> str:
    """The language code of this request, as our checklist data names them."""
    return str(get_locale()) if get_locale() else DEFAULT


def html_lang() -> str:
    return {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans"}.get(current_language(), "en")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        current_language=current_language, html_lang=html_lang, LANGUAGE_NAMES=LANGUAGE_NAMES
    )
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["at"] = format_at


def format_day(day) -> str:  # noqa: ANN001
    """A short local date with its weekday, e.g. 11月24日 週二 / Tue, Nov 24."""
    from babel.dates import format_skeleton

    return format_skeleton("MMMEd", day, locale=get_locale() or DEFAULT)


def format_at(moment, timezone_name: str = "Asia/Shanghai") -> str:  # noqa: ANN001
    """A moment in the estate's local time, e.g. 11月26日 14:05 / Nov 26, 14:05."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_skeleton

    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(timezone_name))
    return f"{format_skeleton('MMMd', local, locale=get_locale() or DEFAULT)} {local:%H:%M}"
