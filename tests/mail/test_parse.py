"""parse_inbound: sender, new text, what the mail answers, attachments, and clear refusals."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

import pytest

from knowdesk.mail.inbound import MalformedMailError, parse_inbound
from knowdesk.mail.quotes import html_to_text, strip_quoted_reply
from tests.mail.mails import reply

OUR_ID = "<kd.0123456789abcdef01234567.0123456789abcdef0123@example.com>"
TOKEN = "0123456789abcdef01234567"


def test_reply_is_read_with_its_token_from_in_reply_to() -> None:
    mail = parse_inbound(reply(answering=OUR_ID, message_id="<r1@customer.example.com>"))

    assert (mail.sender, mail.sender_name) == ("bob@customer.example.com", "Bob Customer")
    assert mail.recipients == ["support@example.com"]
    assert mail.subject == "Re: Your ticket"
    assert mail.text == "Thanks, that fixed it."
    assert mail.message_id == "<r1@customer.example.com>"
    assert mail.in_reply_to == OUR_ID
    assert mail.references == [OUR_ID]
    assert mail.token == TOKEN
    assert mail.automatic is False
    assert mail.attachments == []


def test_token_is_found_in_the_reply_address_when_headers_lost_the_thread() -> None:
    mail = parse_inbound(reply(to=f"Acme <support+{TOKEN}@example.com>"))
    assert mail.in_reply_to is None
    assert mail.token == TOKEN


def test_a_mail_that_answers_nothing_of_ours_has_no_token() -> None:
    mail = parse_inbound(
        reply(answering="<other@elsewhere.example.com>", to="shop+newsletter@example.com")
    )
    assert mail.token is None


def test_chinese_reply_in_gb2312_with_quote_header_is_read() -> None:
    raw = (
        b"From: =?UTF-8?B?5byg5LiJ?= <zhang@example.com>\r\n"
        b"To: support@example.com\r\n"
        b"Subject: =?UTF-8?B?5Zue5aSN77ya6Lev55Sx5Zmo?=\r\n"
        b"Content-Type: text/plain; charset=gb2312\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    ) + "好的，谢谢！镕\n\n在 2024年1月2日周二 10:00，Acme 客服 写道：\n> 请重启".encode("gb18030")
    mail = parse_inbound(raw)
    assert mail.sender_name == "张三"
    assert mail.subject == "回复：路由器"
    # 镕 is in GBK, not GB2312: decoding as the label says would lose it.
    assert mail.text == "好的，谢谢！镕"


def test_html_only_reply_loses_its_quoted_part() -> None:
    message = EmailMessage(policy=SMTP)
    message["From"] = "bob@example.com"
    message["Subject"] = "Re: hi"
    message.set_content(
        "<div>It works<br>now</div><div class='gmail_quote'><div>On Tue wrote:</div>"
        "<blockquote>Please restart</blockquote></div>",
        subtype="html",
    )
    assert parse_inbound(message.as_bytes()).text == "It works\nnow"


def test_attachments_and_automatic_replies_are_reported() -> None:
    message = EmailMessage(policy=SMTP)
    message["From"] = "bob@example.com"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content("I am out of office.")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="发票.pdf")

    mail = parse_inbound(message.as_bytes())

    assert mail.automatic is True
    [attachment] = mail.attachments
    assert (attachment.filename, attachment.content_type, attachment.data) == (
        "发票.pdf",
        "application/pdf",
        b"%PDF-1.4",
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"   \r\n", "empty"),
        (b"just some words\nand more words", "No mail headers"),
        (b'{"from": "bob@example.com", "text": "hi"}', "no sender"),
        (b"Subject: hello\r\n\r\nno sender here", "no sender"),
        (b"From: Bob\r\nSubject: x\r\n\r\nname but no address", "no sender"),
    ],
)
def test_malformed_mail_is_refused_with_a_reason(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedMailError, match=message):
        parse_inbound(raw)


@pytest.mark.parametrize(
    ("text", "new"),
    [
        ("Fine.\n\nOn Mon, Jan 1, 2024 at 9:00 AM Acme <a@example.com> wrote:\n> old", "Fine."),
        ("Fine.\n\nOn Mon, Jan 1, 2024 at 9:00 AM Acme <\na@example.com> wrote:\n> old", "Fine."),
        ("好的\n\n在 2024年1月2日 10:00，客服 <a@example.com> 写道：\n> 旧", "好的"),
        ("Ok\n-----Original Message-----\nFrom: Acme\nSent: Monday\n\nold", "Ok"),
        ("OK\n________________________________\nFrom: Acme\nSent: Mon\nTo: Bob\n\nold", "OK"),
        ("收到\n\n------------------ 原始邮件 ------------------\n发件人: 客服\n\n旧", "收到"),
        ("收到\n发件人： 客服\n发送时间： 2024年1月2日\n收件人： 我\n\n旧", "收到"),
        ("> old question\n\nmy answer below", "my answer below"),
        (
            "Steps:\n- one\n- two\n\n-- \nBob, +1 555 0100",
            "Steps:\n- one\n- two\n\n-- \nBob, +1 555 0100",
        ),
        (
            "From: the start it failed.\nIt still does.",
            "From: the start it failed.\nIt still does.",
        ),
    ],
)
def test_quoted_reply_is_stripped_and_new_text_kept(text: str, new: str) -> None:
    assert strip_quoted_reply(text) == new


def test_html_text_keeps_line_breaks_and_drops_scripts() -> None:
    html = "<html><head><style>p{}</style></head><body><p>One&nbsp;two</p><script>x()</script>"
    assert html_to_text(html + "<div>three<br>four</div></body></html>") == "One two\nthree\nfour"
    assert html_to_text("  ") == ""
