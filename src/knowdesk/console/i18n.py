"""The console's words in English and Chinese, and the choice of one for a request.

The choice, first match wins: the language the person picked with the toggle (a cookie), their
browser's `Accept-Language`, the locale stored on their account, English. Templates call
`t(key)`; the page's scripts get the whole table of the chosen language (`strings`). Text may
hold `{name}` placeholders, filled by `t(key, name=value)` (and by `t` in core.js).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from knowdesk.console.strings import STRINGS

Locale = Literal["en", "zh"]
LOCALES: tuple[Locale, ...] = ("en", "zh")
LOCALE_COOKIE = "knowdesk_locale"
HTML_LANG: dict[Locale, str] = {"en": "en", "zh": "zh-CN"}


def _as_locale(value: str | None) -> Locale | None:
    tag = (value or "").strip().lower()
    if tag.startswith("zh"):
        return "zh"
    if tag.startswith("en"):
        return "en"
    return None


def _from_accept_language(header: str) -> Locale | None:
    """The best-weighted language we have, from `Accept-Language: zh-CN,zh;q=0.9,en;q=0.8`."""
    best: tuple[float, Locale] | None = None
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        locale = _as_locale(tag)
        if locale is None:
            continue
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        # Earlier entries win ties, as browsers list them in order of preference.
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight - position * 1e-6, locale)
    return best[1] if best else None


def choose_locale(
    *, toggle: str | None, accept_language: str | None, account: str | None
) -> Locale:
    return (
        _as_locale(toggle)
        or _from_accept_language(accept_language or "")
        or _as_locale(account)
        or "en"
    )


def strings(locale: Locale) -> dict[str, str]:
    index = LOCALES.index(locale)
    return {key: texts[index] for key, texts in STRINGS.items()}


def fill(text: str, values: dict[str, object]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def translator(locale: Locale) -> Callable[..., str]:
    table = strings(locale)

    def t(key: str, **values: object) -> str:
        return fill(table.get(key, key), values)

    return t
