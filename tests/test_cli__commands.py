"""The `salesflow` command line on a fresh SQLite file: in the test process (tests/cli_runner.py), and as
the installed script in a real subprocess where that is what is tested."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli_runner import INSTALLED, run_cli
from tests.conftest import PASSWORD as TEST_PASSWORD
from tests.conftest import ROOT

APPROVAL = "tests/fixtures/approval"
PASSWORD = TEST_PASSWORD + "\n"
REQUEST = json.dumps({"customer_name": "上海客户", "amount_yuan": 3000}, ensure_ascii=False)
USERS = {"rep": "sales_rep", "rep2": "sales_rep", "mgr": "sales_manager", "mgr2": "sales_manager"}


def environment(db_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESFLOW_")}
    env.update({"SALESFLOW_DATABASE_URL": f"sqlite:///{db_file}", "SALESFLOW_PASSWORD_HASH": "pbkdf2:sha256:1000",
                "SALESFLOW_LANG": "en"})
    return env


def sf(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run_cli(env, *args, stdin=stdin)


def installed(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(INSTALLED), *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout


def assert_one_line_error(done: subprocess.CompletedProcess, *words: str) -> str:
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output, output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one error line on stderr, got: {done.stderr!r}"
    assert lines[0].startswith("error: "), lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """A database made ready through the CLI: init, users, the approval process deployed."""
    e = environment(tmp_path_factory.mktemp("cli") / "salesflow.db")
    ok(sf(e, "init"))
    for name, role in USERS.items():
        out = ok(sf(e, "users", "add", name, "--role", role, "--before-training", "--password-stdin", stdin=PASSWORD))
        assert name in out and role in out
    out = ok(sf(e, "deploy", APPROVAL))
    assert re.search(r"approval: deployed as version 1\b", out), out
    return e


def start(env: dict[str, str]) -> tuple[int, str]:
    out = ok(sf(env, "start", "approval", "--as", "rep", "--data", REQUEST))
    iid = int(re.search(r"instance (\d+) started", out).group(1))
    task_id = re.search(r"open task (\S+)", out).group(1)
    return iid, task_id


def test_a_whole_run_from_the_command_line(tmp_path):
    env = environment(tmp_path / "flow.db")
    out = ok(sf(env, "init"))
    assert "schema is up to date" in out
    for name, role in USERS.items():
        ok(sf(env, "users", "add", name, "--role", role, "--before-training", "--password-stdin", stdin=PASSWORD))

    first = ok(sf(env, "deploy", APPROVAL))
    assert "version 1" in first and "deployed" in first
    again = ok(sf(env, "deploy", APPROVAL))
    assert "unchanged" in again and "version 1" in again and "version 2" not in again

    iid, task_id = start(env)
    mgr_inbox = ok(sf(env, "tasks", "--as", "mgr"))
    assert task_id in mgr_inbox and f"#{iid}" in mgr_inbox
    assert task_id in ok(sf(env, "tasks", "--as", "mgr2"))
    assert task_id not in ok(sf(env, "tasks", "--as", "rep2"))
    [listed] = json.loads(ok(sf(env, "tasks", "--as", "mgr", "--json")))
    assert listed["id"] == task_id and listed["name"] == "approve"

    out = ok(sf(env, "complete", task_id, "--as", "mgr", "--data", '{"approved": true}'))
    assert f"instance {iid} is running" in out
    archive_id = re.search(r"open task (\S+)", out).group(1)
    assert archive_id in ok(sf(env, "tasks", "--as", "rep"))
    out = ok(sf(env, "complete", archive_id, "--as", "rep", "--data", '{"archive_no": "A-7"}'))
    assert f"instance {iid} is completed" in out

    shown = json.loads(ok(sf(env, "show", str(iid), "--as", "rep")))
    assert shown["status"] == "completed" and shown["data"]["approved"] is True
    assert shown["data"]["customer_name"] == "上海客户"

    verify = sf(env, "audit", "verify", "--list")
    assert f"instance:{iid}: verified" in ok(verify) and "replay matches" in verify.stdout
    replay = ok(sf(env, "replay", str(iid)))
    assert f"instance {iid}: verified" in replay

    exported = ok(sf(env, "audit", "export", "--instance", str(iid), "--format", "csv"))
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["position", "at", "actor", "kind", "task", "payload", "prev_hash", "hash"]
    kinds = [r[3] for r in rows[1:]]
    assert kinds[0] == "started" and kinds[-1] == "ended" and "completed" in kinds
    assert [int(r[0]) for r in rows[1:]] == list(range(1, len(rows)))
    as_json = json.loads(ok(sf(env, "audit", "export", "--instance", str(iid))))
    assert len(as_json["events"]) == len(rows) - 1


def test_the_installed_command_runs_and_fails_as_an_operator_sees_it(env):
    """The console script itself, in a process of its own: the other tests run the same main() in-process."""
    iid, task_id = start(env)
    listed = installed(env, "tasks", "--as", "mgr")
    assert listed.returncode == 0 and task_id in listed.stdout, listed.stderr
    refused = installed(env, "start", "no_such_process", "--as", "rep")
    assert_one_line_error(refused, "no_such_process")
    assert refused.returncode == 4
    password = installed(env, "users", "add", "rep9", "--role", "sales_rep", "--before-training",
                         "--password-stdin", stdin=PASSWORD)
    assert password.returncode == 0 and "rep9" in password.stdout, password.stderr


def test_replay_with_a_step_prints_the_state(env):
    iid, _task_id = start(env)
    out = ok(sf(env, "replay", str(iid), "--step", "1", "--json"))
    result = json.loads(out)
    assert result["verified"] is True
    assert "approve" in result["state"]["active"]
    assert result["state"]["data"]["customer_name"] == "上海客户"


def test_claim_unclaim_and_cancel_from_the_command_line(env):
    iid, task_id = start(env)
    assert "claimed by mgr" in ok(sf(env, "claim", task_id, "--as", "mgr"))
    assert task_id not in ok(sf(env, "tasks", "--as", "mgr2"))
    assert_one_line_error(sf(env, "claim", task_id, "--as", "mgr2"), "already claimed")
    ok(sf(env, "unclaim", task_id, "--as", "mgr"))
    assert task_id in ok(sf(env, "tasks", "--as", "mgr2"))
    assert_one_line_error(sf(env, "cancel", str(iid), "--as", "rep2"))
    ok(sf(env, "cancel", str(iid), "--as", "rep", "--reason", "客户撤回"))
    assert task_id not in ok(sf(env, "tasks", "--as", "mgr"))
    assert_one_line_error(sf(env, "complete", task_id, "--as", "mgr", "--data", '{"approved": true}'),
                          "no longer ready")


# -- errors: one line, non-zero, no traceback ---------------------------------------------


@pytest.mark.parametrize("data", ['{"customer_name": ', "not json", "{'single': 'quotes'}"])
def test_bad_json_in_data_is_one_error_line(env, data):
    assert_one_line_error(sf(env, "start", "approval", "--as", "rep", "--data", data), "--data", "JSON")


@pytest.mark.parametrize(("setting", "value"), [("SALESFLOW_SQLITE_SYNCHRONOUS", "sometimes"),
                                               ("SALESFLOW_WORKFLOW_CACHE_MB", "lots")])
def test_a_setting_that_cannot_be_used_is_one_error_line_naming_it(env, setting, value):
    done = sf({**env, setting: value}, "init")
    assert_one_line_error(done, setting, repr(value))
    assert done.returncode == 2


@pytest.mark.parametrize(("url", "says"), [("nonsense://x", "nonsense://x"),
                                            ("mysql://ops:s3cret@db/sales", "mysql://ops:***@db/sales"),
                                            ("::::", "not a database URL"),
                                            ("sqlite:////no/such/folder/salesflow.db", "/no/such/folder")])
def test_an_unusable_database_url_is_one_error_line_without_its_password(env, url, says):
    done = sf({**env, "SALESFLOW_DATABASE_URL": url}, "tasks", "--as", "rep")
    assert_one_line_error(done, "SALESFLOW_DATABASE_URL", says)
    assert done.returncode == 2 and "s3cret" not in done.stderr


def test_a_postgresql_url_without_a_driver_takes_the_installed_one():
    from engine.config import usable_database_url
    assert usable_database_url("postgresql://ops:pw@db:5432/sales") == "postgresql+psycopg://ops:pw@db:5432/sales"
    assert usable_database_url("postgres://db/sales") == "postgresql+psycopg://db/sales"
    assert usable_database_url("sqlite://") == "sqlite://"


def test_a_port_out_of_range_is_refused_before_serving(env):
    done = sf(env, "serve", "--port", "99999")
    assert done.returncode == 2 and "99999 is not in the range" in done.stderr


def test_data_that_is_not_an_object_is_refused(env):
    assert_one_line_error(sf(env, "start", "approval", "--as", "rep", "--data", "[1, 2]"), "--data")


def test_bad_json_when_completing_is_one_error_line(env):
    _iid, task_id = start(env)
    assert_one_line_error(sf(env, "complete", task_id, "--as", "mgr", "--data", "{approved: true}"), "JSON")
    assert task_id in ok(sf(env, "tasks", "--as", "mgr"))


def test_unknown_process_is_one_error_line(env):
    assert_one_line_error(sf(env, "start", "no_such_process", "--as", "rep", "--data", REQUEST),
                          "no_such_process")


def test_wrong_role_to_start_is_one_error_line(env):
    assert_one_line_error(sf(env, "start", "approval", "--as", "mgr", "--data", REQUEST), "mgr")


def test_wrong_role_to_complete_is_one_error_line(env):
    _iid, task_id = start(env)
    # the requester sees the task but does not hold its role (rep2, who takes no part, is told "no task")
    assert_one_line_error(sf(env, "complete", task_id, "--as", "rep", "--data", '{"approved": true}'),
                          "sales_manager")
    assert task_id in ok(sf(env, "tasks", "--as", "mgr"))


def test_unknown_user_is_one_error_line(env):
    assert_one_line_error(sf(env, "tasks", "--as", "ghost"), "ghost")


def test_unknown_role_for_a_new_user_is_one_error_line(env):
    assert_one_line_error(sf(env, "users", "add", "newbie", "--role", "astronaut", "--password-stdin",
                             stdin=PASSWORD), "astronaut")


@pytest.mark.parametrize("args", [
    ("tasks", "--as", "mgr"),
    ("start", "approval", "--as", "rep", "--data", REQUEST),
    ("users", "add", "rep", "--role", "sales_rep", "--password-stdin"),
    ("deploy", APPROVAL),
    ("show", "1", "--as", "rep"),
    ("complete", "00000000-0000-0000-0000-000000000000", "--as", "mgr", "--data", "{}"),
    ("audit", "verify"),
    ("audit", "export", "--instance", "1"),
    ("replay", "1"),
    ("worker", "--once"),
], ids=lambda a: " ".join(a[:2]))
def test_a_database_without_init_is_one_error_line(tmp_path, args):
    env = environment(tmp_path / "empty.db")
    done = sf(env, *args, stdin=PASSWORD)
    line = assert_one_line_error(done)
    assert "init" in line, line


def test_validate_the_processes_folder_alone_takes_the_forms_beside_it(env):
    done = sf(env, "validate", str(ROOT / "processes"))
    out = ok(done)
    assert f"{len(list((ROOT / 'processes').glob('*.bpmn')))} process(es) valid" in out
    assert "including" in done.stderr and "forms" in done.stderr
