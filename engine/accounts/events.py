"""The `security` audit chain: every change to an account, a lockout and its lifting, a revoked token.

It is a hash chain like the deployments' (engine/audit/chain.py), so `salesflow audit verify` checks it
with every other chain. Its events: user_deactivated, user_activated, password_changed, password_reset,
token_revoked, account_locked, address_locked, unlocked, user_roles_changed, front_line_before_training
(an account created with a front-line role before its safety training, at the first installation).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.audit.chain import GENESIS, append
from engine.clock import iso
from engine.store.models import AuditChain

SECURITY = "security"
ENGINE = "system"  # the actor of what the engine does by itself (a lockout), as in the instance chains


def record(session: Session, at: datetime, actor: str, kind: str, payload: dict) -> None:
    """Append one event, holding the chain's head row for the rest of the transaction."""
    _lock_chain(session)
    append(session, SECURITY, iso(at), actor, kind, None, payload)


def _lock_chain(session: Session) -> None:
    """Two workers may write the first security event at once: create the head row if it is missing
    without failing when the other one just did (ON CONFLICT DO NOTHING), then lock it."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(AuditChain).values(chain=SECURITY, length=0, head=GENESIS)
                    .on_conflict_do_nothing(index_elements=["chain"]))
    session.scalar(select(AuditChain).where(AuditChain.chain == SECURITY).with_for_update())
