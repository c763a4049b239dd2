"""`Engine`'s accounts: users, logging in, web sessions, API tokens and their administration.

The work is in engine/accounts and engine/users.py; who may do what in engine/runtime/access.py.
"""

from __future__ import annotations

from engine import tokens, users
from engine.accounts import events as account_events
from engine.accounts import login, manage, passwords, sessions
from engine.errors import InvalidData, NotFound, Unauthorized
from engine.facade.base import EngineBase
from engine.roles import front_line_roles, load_catalogue
from engine.runtime import access, commands, training_gate


class AccountsMixin(EngineBase):
    def add_user(self, username: str, roles: list[str], password: str, display_name: str | None = None,
                 training: str = "unchecked") -> None:
        """Create an account. `training` (engine/runtime/training_gate.py): "unchecked" for the demo and
        the tests' fixtures; "required" refuses a front-line role; "waived" grants it before any training
        (first installation) and records that in the security trail."""
        if username == commands.SYSTEM:
            raise InvalidData(f"{commands.SYSTEM} is reserved for the engine itself")
        checked = training != "unchecked"  # the demo and the fixtures skip reading the catalogue too
        front_line = front_line_roles(load_catalogue(self._roles_path)) if checked else {}
        with self.db.write() as s:
            users.add_user(s, username, roles, password, display_name)  # its checks first: name, password, roles
            if training == "required":
                training_gate.check_new_account(username, set(roles), front_line)  # rolls the account back
            waived = sorted(set(roles) & set(front_line))
            if training == "waived" and waived:
                account_events.record(s, self.clock.now(), commands.SYSTEM, "front_line_before_training",
                                      {"username": username, "roles": waived})

    def authenticate(self, username: str, password: str, address: str | None = None) -> dict:
        """Log in to the pages: the user and the web session to keep ({username, display_name, roles,
        session_id, seen}); Unauthorized for a wrong name or password, Locked while locked out."""
        return login.login(self.db, username, password, address, self.clock.now(), self._new_session)

    def issue_token(self, username: str, password: str, address: str | None = None) -> str:
        """A bearer token for POST /api/v1/tokens, under the same throttle as the login page."""
        now = self.clock.now()
        return login.login(self.db, username, password, address, now, lambda s, user: tokens.issue(s, user, now))

    def token_user(self, token: str) -> str:
        with self.db.glance() as conn:  # a Core read without a Session: every API request asks
            return tokens.resolve(conn, token, self.clock.now())

    def session_user(self, session_id: str, last_seen: float | None) -> dict:
        """The user of a web session that is still valid (not ended on the server, not idle too long),
        with `seen`, the last-request time to keep; Unauthorized otherwise."""
        username, generation = sessions.parse(session_id)
        with self.db.read() as s:
            try:
                user = users.get_actor(s, username)  # every request asks: the light read
            except NotFound:
                raise Unauthorized("the session's user is no longer active") from None
            now = sessions.wall_clock()
            sessions.check(user, generation, last_seen, now)
            return {**self._user_view(user), "session_id": session_id,
                    "seen": sessions.renewed_stamp(last_seen, now)}

    def logout(self, session_id: str) -> None:
        """End the user's web sessions (all of them: the generation in their ids is no longer current)."""
        username, generation = sessions.parse(session_id)
        with self.db.write() as s:
            try:
                user = users.get_user(s, username)
            except NotFound:
                return
            if generation == user.session_generation:
                sessions.end_all(user)

    def change_password(self, actor: str, current: str, new: str, address: str | None = None) -> dict:
        """The actor's own password, given the current one; ends their other sessions and revokes their
        tokens; returns the new web session (as authenticate does)."""
        return login.change_password(self.db, actor, current, new, address, self.clock.now(), self._new_session)

    def reset_password(self, actor: str, username: str, new: str) -> None:
        """An administrator sets another user's password (the policy applies); ends that user's sessions
        and revokes their tokens."""
        with self.db.read() as s:
            manage.check_may_reset(s, actor, username)
        passwords.check_policy(username, new)
        new_hash = passwords.make_hash(new)  # before the transaction: hashing takes a while on purpose
        with self.db.write() as s:
            manage.reset_password(s, actor, username, new_hash, self.clock.now())

    def deactivate_user(self, actor: str, username: str) -> bool:
        """False when the user already was inactive."""
        with self.db.write() as s:
            return manage.set_active(s, actor, username, False, self.clock.now())

    def activate_user(self, actor: str, username: str) -> bool:
        with self.db.write() as s:
            return manage.set_active(s, actor, username, True, self.clock.now())

    def set_user_roles(self, actor: str, username: str, add: list[str] | tuple[str, ...] = (),
                       remove: list[str] | tuple[str, ...] = ()) -> list[str]:
        """Grant and take away roles of an existing account (administrators); its roles afterwards. A
        front-line role needs a passed safety training (engine/runtime/training_gate.py)."""
        front_line = front_line_roles(load_catalogue(self._roles_path))
        with self.db.write() as s:
            return manage.set_roles(s, actor, username, list(add), list(remove), front_line, self.clock.now())

    def unlock(self, actor: str, username: str | None = None, address: str | None = None) -> int:
        """Lift the login lockout of a user name and/or a client address; how many lockouts ended."""
        with self.db.write() as s:
            return manage.unlock(s, actor, username, address, self.clock.now())

    def may_manage_users(self, actor: str) -> bool:
        """Whether the actor may manage accounts (for showing the administrators' page link)."""
        with self.db.read() as s:
            return access.may_manage_users(manage.acting(s, actor))

    def accounts(self, actor: str) -> dict:
        """For administrators: {users: [...with roles, active, locked_until, tokens], locks, failures}."""
        with self.db.read() as s:
            return manage.overview(s, actor, self.clock.now())

    def tokens(self, actor: str, username: str | None = None, current_token: str | None = None) -> list[dict]:
        """Working API tokens (never their secret): the actor's own, or (administrators) the named user's; the
        console operator ("system") without a name: everyone's. `current` marks the one given as `current_token`."""
        with self.db.read() as s:
            now = self.clock.now()
            current = tokens.row_of(s, current_token, now) if current_token else None
            return manage.token_list(s, actor, username, now, current)

    def revoke_token(self, actor: str, token_id: int) -> dict:
        with self.db.write() as s:
            return manage.revoke_token(s, actor, token_id, self.clock.now())

    def revoke_current_token(self, token: str) -> dict:
        """Revoke the bearer token itself (DELETE /api/v1/tokens/current)."""
        with self.db.write() as s:
            row = tokens.row_of(s, token, self.clock.now())
            return manage.revoke_row(s, row.username, row, self.clock.now())

    def _new_session(self, session, user) -> dict:  # noqa: ANN001 - (Session, User), inside login's transaction
        return {**self._user_view(user), "session_id": sessions.session_id(user), "seen": sessions.wall_clock()}

    @staticmethod
    def _user_view(user) -> dict:  # noqa: ANN001 - a User row or an Actor
        return {"username": user.username, "display_name": user.display_name, "roles": sorted(users.roles_of(user))}

    def user(self, username: str) -> dict:
        with self.db.read() as s:
            return self._user_view(users.get_actor(s, username))
