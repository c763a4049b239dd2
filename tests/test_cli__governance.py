"""`salesflow governance on|off` and `salesflow deploy` under rule-change governance (P13), as a subprocess."""

from __future__ import annotations

import re

import pytest

from tests.test_cli__commands import PASSWORD, assert_one_line_error, environment, ok, sf

APPROVAL = "tests/fixtures/approval"
BUNDLE = ("processes/rule_change.bpmn", "forms/rule_change_request.yaml", "forms/rule_change_approval.yaml",
          "forms/rule_change_acknowledge.yaml")


@pytest.mark.rule("P13.7")
def test_governance_is_switched_by_an_administrator_and_governs_the_console_deploy(tmp_path):
    e = environment(tmp_path / "salesflow.db")
    ok(sf(e, "init"))
    for name, role in (("own", "process_owner"), ("adm", "admin")):
        ok(sf(e, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD))
    ok(sf(e, "deploy", *BUNDLE))
    assert "governance: off" in ok(sf(e, "governance"))
    assert_one_line_error(sf(e, "governance", "on", "--as", "own"), "not an administrator")
    assert "governance switched on" in ok(sf(e, "governance", "on", "--as", "adm"))
    assert "by adm" in ok(sf(e, "governance"))
    assert_one_line_error(sf(e, "deploy", APPROVAL), "process owner")
    out = ok(sf(e, "deploy", APPROVAL, "--as", "own", "--note", "first version"))
    request = re.search(r"approval: awaiting approval as version 1 \(rule change request (\d+)\)", out)
    assert request, out
    assert f"pending: request {request.group(1)} by own: approval v1" in ok(sf(e, "governance"))
    assert_one_line_error(sf(e, "deploy", APPROVAL, "--as", "own", "--emergency", "--reason", "x"),
                          "not an administrator")
    assert "governance switched off" in ok(sf(e, "governance", "off"))
