"""Who is on the other end of a chat: widget tokens, signed customer identities, contact tokens.

- A channel's *widget token* is public: it only says which channel a chat window belongs to.
- A logged-in customer's *identity* is their id in the company's own system, signed by the
  company's server with the channel's identity secret: HMAC-SHA256(secret, external_id), hex.
  Without a valid signature nobody can speak as that customer.
- A *contact token* (issued by knowdesk) lets an anonymous visitor come back as the same contact.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

WIDGET_TOKEN_PREFIX = "wt_"
_ALGORITHM = "HS256"
CONTACT_TOKEN_DAYS = 30


def new_widget_token() -> str:
    return WIDGET_TOKEN_PREFIX + secrets.token_urlsafe(24)


def new_identity_secret() -> str:
    return secrets.token_hex(32)


def sign_identity(external_id: str, secret: str) -> str:
    """What the company's server computes for a logged-in customer (see docs/protocol.md)."""
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def identity_is_valid(external_id: str, signature: str, secret: str) -> bool:
    return hmac.compare_digest(sign_identity(external_id, secret), signature.strip().lower())


@dataclass(frozen=True)
class ContactClaims:
    contact_id: uuid.UUID
    channel_id: uuid.UUID
    expires_at: datetime


def issue_contact_token(contact_id: uuid.UUID, channel_id: uuid.UUID, secret: str) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(contact_id),
        "ch": str(channel_id),
        "typ": "contact",
        "iat": now,
        "exp": now + timedelta(days=CONTACT_TOKEN_DAYS),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_contact_token(token: str, secret: str) -> ContactClaims | None:
    """The claims of a valid, unexpired contact token; None for anything else."""
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM])
        if claims.get("typ") != "contact":
            return None
        return ContactClaims(
            contact_id=uuid.UUID(claims["sub"]),
            channel_id=uuid.UUID(claims["ch"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (jwt.PyJWTError, KeyError, ValueError):
        return None


def token_expiry(token: str) -> datetime | None:
    """When an already verified JWT expires."""
    exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None
