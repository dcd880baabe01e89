"""The console's words: the language chosen for a request, and a text for every key in use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowdesk.console.i18n import choose_locale, strings, translator
from knowdesk.console.pages import SETTINGS_SECTIONS
from knowdesk.console.strings import STRINGS
from knowdesk.webhooks.events import EVENTS

CONSOLE = Path(__file__).resolve().parents[2] / "src" / "knowdesk" / "console"
# t("key") in templates and scripts; keys built from a prefix are listed by hand below.
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_.0-9-]+)["']""")
QUOTED_KEY = re.compile(r'"([a-z_]+\.[a-z_.-]+)"')
BUILT_KEYS = {
    "nav.": ["inbox", "tickets", "kb", "analytics", "settings"],
    "role.": ["owner", "editor", "reviewer", "agent"],
    "kb.section.": ["browse", "review", "stale", "upload", "try"],
    "settings.section.": list(SETTINGS_SECTIONS),
    "settings.explain.": list(SETTINGS_SECTIONS),
    "inbox.view.": ["mine", "queued", "open", "bot", "resolved"],
    "status.": ["draft", "in_review", "published", "archived"],
    "index.": ["queued", "processing", "done", "failed"],
    "kind.": ["faq", "document"],
    "state.": ["bot", "queued", "assigned", "resolved"],
    "ticket.": ["new", "open", "pending", "on_hold", "solved", "closed"],
    "priority.": ["low", "normal", "high", "urgent"],
    "decision.": ["direct", "grounded", "clarify", "handoff"],
    "try.why.": ["direct", "grounded", "clarify", "handoff"],
    "review.": ["approved", "rejected"],
    "delivery.": ["pending", "delivered", "failed"],
    "kb.done.": ["submit", "publish", "archive", "restore"],
    "sla.": ["first_response", "resolution"],
    "day.": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "teams.": ["round_robin", "least_busy"],
    "rating.": ["helpful", "not_helpful"],
    "author.": ["agent", "contact", "system"],
    "error.": ["forbidden", "forbidden_text", "not_found", "not_found_text"],
    "signin.": ["wrong", "no_workspace"],
    "hook_event.": list(EVENTS),
}


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*CONSOLE.glob("templates/*.html"), *CONSOLE.glob("static/js/*.js")]:
        keys.update(k for k in LITERAL_KEY.findall(path.read_text()) if not k.endswith("."))
    keys.update(prefix + name for prefix, names in BUILT_KEYS.items() for name in names)
    return keys


def test_every_key_in_use_has_both_languages() -> None:
    missing = sorted(used_keys() - STRINGS.keys())
    assert not missing, f"keys without a text: {missing}"
    empty = [key for key, (en, zh) in STRINGS.items() if not en.strip() or not zh.strip()]
    assert not empty


def test_both_languages_have_the_same_placeholders() -> None:
    for key, (en, zh) in STRINGS.items():
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", zh)), key


def test_no_key_is_left_unused() -> None:
    # A key named anywhere in a script (`t(a ? "x.y" : "x.z")`, a table of views) is in use,
    # as are those reached only through a computed name (prefix + a value from the server).
    named: set[str] = set()
    for path in CONSOLE.glob("static/js/*.js"):
        named.update(QUOTED_KEY.findall(path.read_text()))
    dynamic = ("field.", "event.", "channel.", "score.", "source.", "language.")
    used = used_keys() | named
    # `key.one` is what `key` says of a count of one.
    singular = {key for key in STRINGS if key.endswith(".one") and key[: -len(".one")] in used}
    unused = sorted(k for k in STRINGS.keys() - used - singular if not k.startswith(dynamic))
    assert not unused, f"texts nothing shows: {unused}"


def test_a_text_for_one_counts_with_n() -> None:
    for key in (k for k in STRINGS if k.endswith(".one")):
        many = STRINGS[key[: -len(".one")]]
        assert all("{n}" in text for text in many), f"{key}: its key is not counted with n"


@pytest.mark.parametrize(
    ("toggle", "accept", "account", "expected"),
    [
        (None, None, None, "en"),
        (None, "zh-CN,zh;q=0.9,en;q=0.8", None, "zh"),
        (None, "en-GB,en;q=0.9,zh;q=0.8", None, "en"),
        (None, "fr-FR,fr;q=0.9,zh-TW;q=0.5", None, "zh"),
        (None, "de-DE", "zh", "zh"),
        (None, "en;q=0.2,zh;q=0.7", None, "zh"),
        (None, "zh;q=0", "en", "en"),
        ("en", "zh-CN", "zh", "en"),
        ("zh", "en-US", "en", "zh"),
        ("xx", "en-US", None, "en"),
    ],
)
def test_locale_choice(
    toggle: str | None, accept: str | None, account: str | None, expected: str
) -> None:
    assert choose_locale(toggle=toggle, accept_language=accept, account=account) == expected


def test_texts_fill_their_placeholders() -> None:
    t = translator("zh")
    assert t("kb.version_n", n=3) == "版本 3"
    assert t("no.such.key") == "no.such.key"
    assert strings("en")["nav.inbox"] == "Inbox"
