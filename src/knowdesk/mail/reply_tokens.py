"""How a reply finds the mail it answers.

Outgoing mail that expects replies carries a reply token twice: in its Reply-To address
(`support+<token>@example.com`) and in its Message-ID (`<kd.<token>.<random>@example.com>`),
which replies quote in In-Reply-To and References. Either is enough to place a reply, so a
reply still finds its thread when the client answered the From address instead of Reply-To.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from email.headerregistry import Address
from email.utils import parseaddr

# Lower case, as some mail servers lower-case the local part of an address. A digit is required
# so that the words people put after '+' for their own sorting (shop+newsletter@) are not taken
# for tokens.
TOKEN = re.compile(r"(?=[a-z-]*[0-9])[a-z0-9][a-z0-9-]{7,63}")
_MESSAGE_ID_TOKEN = re.compile(r"<kd\.([a-z0-9-]+)\.[0-9a-f]{20}@", re.IGNORECASE)
_MESSAGE_IDS = re.compile(r"<[^<>\s]+>")


def new_message_id(domain: str, token: str | None) -> str:
    # 80 random bits: unique enough, and short enough that the header rarely needs folding.
    middle = f"{token}." if token else ""
    return f"<kd.{middle}{secrets.token_hex(10)}@{domain}>"


def reply_address(base: str, token: str, default_name: str = "") -> str:
    """`Name <support@example.com>` → `Name <support+token@example.com>`."""
    name, address = parseaddr(base)
    local, _, domain = address.rpartition("@")
    return str(Address(display_name=name or default_name, addr_spec=f"{local}+{token}@{domain}"))


def message_ids(header: str | None) -> list[str]:
    return _MESSAGE_IDS.findall(header or "")


def token_in_message_ids(ids: Iterable[str]) -> str | None:
    for ident in ids:
        match = _MESSAGE_ID_TOKEN.match(ident)
        if match and TOKEN.fullmatch(match.group(1).lower()):
            return match.group(1).lower()
    return None


def token_in_addresses(addresses: Iterable[str]) -> str | None:
    for address in addresses:
        local = address.rpartition("@")[0]
        candidate = local.partition("+")[2].lower()
        if TOKEN.fullmatch(candidate):
            return candidate
    return None
