"""API bearer tokens: random, shown once, stored as SHA-256, expiring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Unauthorized
from engine.store.models import ApiToken, User

LIFETIME = timedelta(hours=12)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(session: Session, user: User, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=_digest(token), username=user.username, created_at=now,
                         expires_at=now + LIFETIME, revoked=False))
    return token


def resolve(session: Session, token: str, now: datetime) -> str:
    """The user name a token stands for, or Unauthorized (unknown, revoked or expired)."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token or "")))
    if row is None or row.revoked:
        raise Unauthorized("invalid token")
    if row.expires_at <= now:
        raise Unauthorized("token expired")
    return row.username
