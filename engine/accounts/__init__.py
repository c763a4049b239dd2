"""Accounts, sessions and logins (issue 11): the password policy, revocable web sessions, the login
throttle with temporary lockouts, API token revocation and the `security` audit chain that records each
change. `engine/api.py` exposes them; who may do what is decided in `engine/runtime/access.py`."""
