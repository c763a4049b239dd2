"""Passwords: the policy every new password meets, and hashing and checking (salted hashes only).

The policy (users add, a user's own change, an administrator's reset): at least 12 characters (at most
256), not only spaces, not the user name nor containing it (names of 4 characters or more: shorter ones,
such as the surname "li", occur inside too many good passwords), and not common or easy to guess: zxcvbn
(Dropbox's estimator, with its lists of common passwords, names and words) must score it 3 of 4 or more,
with the user name among the words it tries.
"""

from __future__ import annotations

import functools
import os
import secrets
import threading

from werkzeug.security import check_password_hash, generate_password_hash

from engine.errors import InvalidData

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_NAME_INSIDE = 4
MIN_SCORE = 3
_ZXCVBN_MAX = 72  # zxcvbn refuses longer input; the first 72 characters decide whether it is guessable
# zxcvbn keeps the user's own words in a module-global dictionary while it scores: one scoring at a time
_zxcvbn_lock = threading.Lock()

TOO_SHORT = {"zh": f"密码至少需要 {MIN_LENGTH} 个字符", "en": f"A password needs at least {MIN_LENGTH} characters"}
TOO_LONG = {"zh": f"密码最多 {MAX_LENGTH} 个字符", "en": f"A password has at most {MAX_LENGTH} characters"}
BLANK = {"zh": "密码不能只由空格组成", "en": "A password may not be only spaces"}
HAS_NAME = {"zh": "密码不能是用户名，也不能包含用户名", "en": "A password may not be the user name or contain it"}
COMMON = {"zh": "这是常见或容易猜到的密码，请换一个更长、更少见的密码（例如几个不相关的词）",
          "en": "This password is common or easy to guess; choose a longer, less usual one (a few unrelated words)"}


def hash_method() -> str:
    """werkzeug's default (scrypt) in production; the test suite sets a cheap method through the
    environment because it creates hundreds of users."""
    return os.environ.get("SALESFLOW_PASSWORD_HASH", "scrypt")


def make_hash(password: str) -> str:
    return generate_password_hash(password, method=hash_method())


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether the password matches; with no hash (unknown or inactive user) a dummy hash of the same
    method is checked, so that the answer takes as long as for a real user and tells nobody who exists."""
    matches = check_password_hash(stored_hash or _dummy_hash(hash_method()), password)
    return matches and stored_hash is not None


@functools.cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def problem(username: str, password: str) -> dict[str, str] | None:
    """What is wrong with a new password for this user ({"zh", "en"}), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    if not password.strip():
        return BLANK
    folded, name = password.casefold(), username.casefold()
    if folded == name or (len(name) >= MIN_NAME_INSIDE and name in folded):
        return HAS_NAME
    if _score(password[:_ZXCVBN_MAX], username) < MIN_SCORE:
        return COMMON
    return None


def check_policy(username: str, password: str, field: str = "password") -> None:
    """InvalidData naming the field (with zh and en messages) when the password breaks the policy."""
    wrong = problem(username, password)
    if wrong is not None:
        raise InvalidData(f"the new password is refused: {wrong['en']}", {field: wrong})


def _score(password: str, username: str) -> int:
    from zxcvbn import zxcvbn  # imported when first needed: the command line starts faster without its lists

    with _zxcvbn_lock:
        return int(zxcvbn(password, user_inputs=[username])["score"])
