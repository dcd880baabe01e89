"""Builders for the small documents the parsing and chunking tests read."""

from __future__ import annotations

import io
import zipfile

import docx
from pypdf import PdfReader, PdfWriter

GUIDE_MARKDOWN = """\
# 安装指南

欢迎使用 KnowDesk 路由器。本指南介绍安装步骤，
以及常见问题的处理方法。

## 连接 Wi-Fi

打开手机的**设置**，选择 `KnowDesk-5G` 网络，然后输入密码。

1. 打开设置
2. 选择网络
   - 5G 信号更快
   - 2.4G 覆盖更广

| 频段 | 速度 |
|---|---|
| 5G | 快 |
| 2.4G | 慢 |

### Troubleshooting

If the light stays *red*, restart the router.
Wait two minutes before trying again.

```
reset --factory
```

## Factory reset

Hold the reset button for ten seconds.
"""

HELP_PAGE_HTML = """\
<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>帮助中心</title>
  <style>body { color: red; }</style>
  <script>var secret = "tracking-code";</script>
</head>
<body>
  <nav><a href="/">首页</a> <a href="/faq">常见问题</a></nav>
  <main>
    <h1>账户问题</h1>
    <p>如果您忘记了密码，
       可以通过手机号重置。</p>
    <h2>Reset your password</h2>
    <p>Click <b>Forgot password</b> on the sign-in page.<br>We send a code by SMS.</p>
    <ul>
      <li>Open the app
        <ul><li>Tap <i>Settings</i></li></ul>
      </li>
      <li><p>Choose Security</p></li>
    </ul>
    <table>
      <tr><th>Plan</th><th>Price</th></tr>
      <tr><td>Basic</td><td>¥10</td></tr>
    </table>
    <div>Loose text in a div.</div>
  </main>
  <script>document.write("injected");</script>
</body>
</html>
"""

_PDF_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def build_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF: one Helvetica text line per string, one page per list."""
    page_count = len(pages)
    font_number = 3 + 2 * page_count
    kids = " ".join(f"{3 + 2 * index} 0 R" for index in range(page_count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode(),
    ]
    for index, lines in enumerate(pages):
        content_number = 4 + 2 * index
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
            % (font_number, content_number)
        )
        operators = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        operators += [f"({_pdf_string(line)}) Tj T*" for line in lines]
        operators.append("ET")
        stream = "\n".join(operators).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(_PDF_FONT)

    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def encrypt_pdf(data: bytes, *, user_password: str) -> bytes:
    """Encrypt with RC4 (pypdf needs no extra crypto library for it)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_docx() -> bytes:
    document = docx.Document()
    document.core_properties.title = "售后服务手册"
    document.add_heading("退货政策", level=1)
    document.add_paragraph("收到商品七天内可以无理由退货。")
    document.add_heading("Refund timing", level=2)
    document.add_paragraph("Refunds arrive within 5 business days.")
    document.add_paragraph("Keep the receipt", style="List Bullet")
    document.add_paragraph("Keep the box", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("商品", "期限"), ("手机", "7 天")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_heading("换货", level=1)
    document.add_paragraph("质量问题十五天内可以换货。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def build_zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()
