"""Finding 5: no API token could be revoked (api_token.revoked was never set). Now a client revokes the
token it uses (DELETE /tokens/current) or any of its own by id, an administrator anyone's; a revoked
token answers 401 at once, and nobody ever sees another token's secret."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.security.conftest import security_events


def _token(api, username: str = "rep1") -> str:
    response = api().post("/tokens", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201
    return response.get_json()["token"]


def _as(api, token: str):
    client = api()
    client.token = token
    return client


def test_a_revoked_token_gets_401(api, engine):
    token = _token(api)
    me = _as(api, token)
    assert me.get("/tasks").status_code == 200
    revoked = me.open("DELETE", "/tokens/current")
    assert revoked.status_code == 200
    assert revoked.get_json()["status"] == "revoked"

    response = me.get("/tasks")
    assert response.status_code == 401
    assert response.get_json() == {"error": "unauthorized", "message": "invalid token"}
    assert me.open("DELETE", "/tokens/current").status_code == 401
    [(kind, actor, payload)] = security_events(engine)
    assert (kind, actor, payload["username"]) == ("token_revoked", "rep1", "rep1")


def test_a_user_lists_and_revokes_their_own_tokens_only(api):
    first, second = _token(api), _token(api)
    other = _token(api, "rep2")
    me = _as(api, first)
    listed = me.get("/tokens").get_json()
    assert [t["current"] for t in listed] == [True, False]
    assert all(set(t) == {"id", "created_at", "expires_at", "status", "current"} for t in listed)
    assert first not in str(listed) and second not in str(listed)  # never the secret
    second_id = listed[1]["id"]

    others = _as(api, other).get("/tokens").get_json()
    [other_id] = [t["id"] for t in others]
    refused = me.open("DELETE", f"/tokens/{other_id}")
    assert refused.status_code == 404  # another person's token does not exist for me
    assert _as(api, other).get("/tasks").status_code == 200

    assert me.open("DELETE", f"/tokens/{second_id}").status_code == 200
    assert _as(api, second).get("/tasks").status_code == 401
    assert me.get("/tasks").status_code == 200
    assert me.open("DELETE", "/tokens/99999999").status_code == 404


def test_an_administrator_revokes_anyones_token(api, engine, admin):
    token = _token(api, "rep2")
    [row] = engine.tokens("system", "rep2")
    listed = api("adm").get("/tokens").get_json()
    assert [t["current"] for t in listed] == [True]  # GET /tokens: the caller's own, an administrator's too
    assert api("adm").open("DELETE", f"/tokens/{row['id']}").status_code == 200
    assert _as(api, token).get("/tasks").status_code == 401


def test_the_cli_lists_and_revokes_tokens(api, engine):
    """`salesflow tokens list|revoke` call these engine methods as the console operator."""
    token = _token(api, "mgr1")
    [row] = engine.tokens("system", "mgr1")
    assert row["status"] == "active"
    engine.revoke_token("system", row["id"])
    assert _as(api, token).get("/tasks").status_code == 401
    assert engine.tokens("system", "mgr1") == []
