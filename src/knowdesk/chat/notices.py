"""What the customer is told when the conversation changes hands, in their language.

A channel may replace the queued and closed notices with its own words.
"""

from __future__ import annotations

_NOTICES: dict[str, dict[str, str]] = {
    "queued": {
        "zh": "正在为您转接人工客服，请稍候。",
        "en": "Connecting you to a person. Please wait a moment.",
    },
    "assigned": {
        "zh": "客服 {name} 为您服务。",
        "en": "{name} has joined the conversation.",
    },
    "closed": {
        "zh": "现在是非工作时间。您的问题已为您保留，客服上班后会尽快回复您。",
        "en": "We are closed right now. Your conversation is kept, and our team will reply "
        "as soon as we are back.",
    },
    "handback": {
        "zh": "已为您转回智能助手，您可以继续提问。",
        "en": "You are back with the assistant. Ask away.",
    },
    "resolved": {
        "zh": "本次会话已结束，感谢您的咨询。",
        "en": "This conversation is resolved. Thank you!",
    },
}


def notice(kind: str, language: str, **values: str) -> str:
    texts = _NOTICES[kind]
    return texts.get(language, texts["en"]).format(**values)
