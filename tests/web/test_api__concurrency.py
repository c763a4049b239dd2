"""Eight people press "complete" on one task at the same moment: exactly one wins, the others get 409."""

from __future__ import annotations

import threading

from flask import Flask

ATTEMPTS = 8


def _race(app: Flask, path: str, tokens: list[str], body: dict) -> list[tuple[int, dict]]:
    """POST the same body to `path` from ATTEMPTS threads at once, each with its own test client."""
    barrier = threading.Barrier(ATTEMPTS)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def attempt(token: str) -> None:
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        with lock:
            results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=attempt, args=(tokens[i % len(tokens)],)) for i in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a completion hung"
    return results


def test_eight_concurrent_completions_of_one_task_give_one_200_and_seven_409(app, api, api_token):
    inst = api("rep1").start_sample()
    [task] = inst["tasks"]
    tokens = [api_token("mgr1"), api_token("mgr2")]
    results = _race(app, f"/api/v1/tasks/{task['id']}/complete", tokens, {"data": {"approved": True}})
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (ATTEMPTS - 1), results
    [winner] = [body for status, body in results if status == 200]
    assert [t["name"] for t in winner["tasks"]] == ["quality_approval"]
    assert all(body["error"] == "conflict" for status, body in results if status == 409)
    history = api("aud").get(f"/instances/{inst['id']}/history").get_json()
    assert [e["kind"] for e in history].count("completed") == 1
    replay = api("aud").get(f"/instances/{inst['id']}/replay").get_json()
    assert replay["verified"] is True
