"""Issue 11, item 8: an instance a user may not see, and everything of it (tasks, history, replay,
export, report, diagram, comments), answers 404 with the very body a missing one gets, in the API
and on the pages, so that ids tell an outsider nothing. 403 stays for someone who may see the thing
but not do the action (engine/runtime/access.py's docstring)."""

from __future__ import annotations

import json
import re
import uuid

import pytest

API_READS = ["/instances/{i}", "/instances/{i}/history", "/instances/{i}/replay", "/instances/{i}/export",
             "/tasks/{t}"]
API_COMMANDS = ["/tasks/{t}/claim", "/tasks/{t}/unclaim", "/tasks/{t}/complete"]
PAGE_READS = ["/instances/{i}", "/instances/{i}/history", "/instances/{i}/history/states.json",
              "/instances/{i}/history/verify.json", "/instances/{i}/report", "/instances/{i}/export.json",
              "/instances/{i}/export.csv", "/instances/{i}/diagram.json", "/tasks/{t}"]
PAGE_POSTS = ["/tasks/{t}", "/tasks/{t}/comments", "/tasks/{t}/claim"]
CSRF = re.compile(r'name="csrf_token" value="[^"]+"')


@pytest.fixture
def hidden(api) -> dict:
    """rep1's request waiting for the sales managers, and ids of an instance and a task that do not exist."""
    started = api("rep1").start_sample()
    return {"i": started["id"], "t": started["tasks"][0]["id"], "missing_i": started["id"] + 1000,
            "missing_t": str(uuid.uuid4())}


def ids(hidden: dict, missing: bool) -> dict:
    return {"i": hidden["missing_i"], "t": hidden["missing_t"]} if missing else {"i": hidden["i"], "t": hidden["t"]}


def as_if(text: str, hidden: dict) -> str:
    """A missing object's answer with the hidden object's ids put in: what the hidden one must answer.
    (One pass, and the instance id only where it stands alone, not inside a task's UUID.)"""
    ids = re.compile(f"{re.escape(hidden['missing_t'])}|(?<![0-9a-f-]){hidden['missing_i']}(?![0-9a-f-])")
    return ids.sub(lambda m: hidden["t"] if m.group(0) == hidden["missing_t"] else str(hidden["i"]), text)


@pytest.mark.parametrize("outsider", ["rep2", "qa1", "disp"])
def test_the_api_answers_an_invisible_instance_exactly_as_a_missing_one(api, hidden, outsider):
    client = api(outsider)
    for path in API_READS + API_COMMANDS:
        method = client.get if path in API_READS else client.post
        kwargs = {} if path in API_READS else {"json": {"data": {"approved": True}}}
        seen = method(path.format(**ids(hidden, missing=False)), **kwargs)
        missing = method(path.format(**ids(hidden, missing=True)), **kwargs)
        assert seen.status_code == missing.status_code == 404, path
        assert seen.get_json() == json.loads(as_if(json.dumps(missing.get_json()), hidden)), path
    assert api("mgr1").get(f"/tasks/{hidden['t']}").status_code == 200  # nothing was claimed or completed


@pytest.mark.parametrize("outsider", ["rep2", "qa1"])
def test_the_pages_answer_an_invisible_instance_exactly_as_a_missing_one(pages, hidden, outsider):
    client = pages(outsider)
    for path in PAGE_READS:
        seen = client.get(path.format(**ids(hidden, missing=False)))
        missing = client.get(path.format(**ids(hidden, missing=True)))
        assert seen.status_code == missing.status_code == 404, path
        assert CSRF.sub("", seen.get_data(as_text=True)) == as_if(CSRF.sub("", missing.get_data(as_text=True)),
                                                                  hidden), path
    for path in PAGE_POSTS:
        seen = client.post(path.format(**ids(hidden, missing=False)), {"data.approved": "true", "text": "hi"})
        missing = client.post(path.format(**ids(hidden, missing=True)), {"data.approved": "true", "text": "hi"})
        assert seen.status_code == missing.status_code and seen.status_code in (302, 404), path
        assert CSRF.sub("", seen.get_data(as_text=True)) == as_if(CSRF.sub("", missing.get_data(as_text=True)),
                                                                  hidden), path


def test_who_sees_the_instance_but_may_not_act_still_gets_403(api, hidden):
    task = f"/tasks/{hidden['t']}"
    # the auditor reads everything and changes nothing; the requester may not approve his own request
    for user in ("aud", "rep1"):
        response = api(user).post(f"{task}/complete", json={"data": {"approved": True}})
        assert response.status_code == 403, user
        assert response.get_json()["error"] == "forbidden"
    assert api("mgr1").post(f"{task}/claim").status_code == 200
    held = api("mgr2").post(f"{task}/complete", json={"data": {"approved": True}})  # mgr2 holds the role
    assert held.status_code == 403 and held.get_json()["error"] == "forbidden"


def test_the_loser_of_a_race_is_told_the_task_is_gone_not_that_it_never_existed(api, hidden):
    """mgr2 saw the task in the inbox; once mgr1 completed it, mgr2's completion is 409, not 404."""
    assert api("mgr1").post(f"/tasks/{hidden['t']}/complete", json={"data": {"approved": True}}).status_code == 200
    late = api("mgr2").post(f"/tasks/{hidden['t']}/complete", json={"data": {"approved": True}})
    assert late.status_code == 409 and late.get_json()["error"] == "conflict"


def test_the_engine_says_no_instance_in_the_same_words(engine, api, hidden):
    from engine.errors import NotFound

    messages = []
    for iid in (hidden["i"], hidden["missing_i"]):
        with pytest.raises(NotFound) as info:
            engine.instance("rep2", iid)
        messages.append(str(info.value))
    assert messages == [f"no instance {hidden['i']}", f"no instance {hidden['missing_i']}"]
