"""The new part of a reply: what the sender wrote above the mail they answer.

Mail clients quote the mail they answer under a header line ("On <date>, <name> wrote:",
"在 2024年1月2日，<name> 写道：", "-----Original Message-----") or an Outlook block of
"From:/Sent:/To:" lines (also "发件人：/发送时间："), and mark quoted lines with ">". We cut at
the first such header and drop the quoted lines; a reply written below the quote keeps what
follows it. Signatures stay: they may hold what an
agent needs (a phone number, an order number).
"""

from __future__ import annotations

import re

import lxml.html

_HEADER_LINES = [
    re.compile(r"^\s*On\s.{0,300}\swrote:\s*$", re.IGNORECASE),
    re.compile(r"^.{0,300}写道[：:]\s*$"),
    re.compile(
        r"^\s*-{2,}\s*(Original Message|Forwarded message|原始邮件|转发的邮件)\s*-{2,}\s*$",
        re.IGNORECASE,
    ),
]
# An Outlook header block: a From line followed closely by another header line.
_BLOCK_START = re.compile(r"^\s*\**\s*(From|发件人)\s*\**\s*[:：]", re.IGNORECASE)
_BLOCK_NEXT = re.compile(
    r"^\s*\**\s*(Sent|Date|To|Subject|发送时间|日期|时间|收件人|主题)\s*\**\s*[:：]", re.IGNORECASE
)
_BLOCK_REACH = 4
_SEPARATOR = re.compile(r"^\s*[_-]{10,}\s*$")
_HTML_QUOTES = (
    "//blockquote"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' moz-cite-prefix ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]"
)
_HTML_BLOCKS = {"p", "div", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}


def _header_lines(lines: list[str], i: int) -> int:
    """How many lines the quote header starting at line i has (0: none starts there)."""
    line = lines[i]
    if any(p.match(line) for p in _HEADER_LINES):
        return 1
    # Gmail wraps a long "On … wrote:" over two lines.
    if i + 1 < len(lines) and re.match(r"^\s*On\s", line, re.IGNORECASE):
        if _HEADER_LINES[0].match(f"{line} {lines[i + 1]}"):
            return 2
    if _BLOCK_START.match(line):
        following = lines[i + 1 : i + 1 + _BLOCK_REACH]
        return 1 if any(_BLOCK_NEXT.match(n) for n in following) else 0
    return 0


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def strip_quoted_reply(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header, length = next(
        ((i, n) for i in range(len(lines)) if (n := _header_lines(lines, i))), (len(lines), 0)
    )
    kept = [line for line in lines[:header] if not _is_quoted(line)]
    while kept and (not kept[-1].strip() or _SEPARATOR.match(kept[-1])):
        kept.pop()
    if not kept:  # written below the quote (bottom-posting)
        kept = [line for line in lines[header + length :] if not _is_quoted(line)]
    return "\n".join(kept).strip()


def html_to_text(html: str) -> str:
    """The visible text of an HTML mail body, without the quoted mail clients mark in HTML."""
    if not html.strip():
        return ""
    root = lxml.html.fromstring(html)
    for element in root.xpath(f"//script | //style | //head | {_HTML_QUOTES}"):
        element.drop_tree()
    for element in root.iter():
        if element.tag == "br":
            element.tail = "\n" + (element.tail or "")
        elif element.tag in _HTML_BLOCKS:
            element.tail = "\n" + (element.tail or "")
    text = root.text_content().replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
