"""`salesflow deploy` of a diagram that would replace an unrelated process under its id: refused in one
line that names the process and the flag, deployed with `--replace-process KEY`."""

from __future__ import annotations

import shutil

from tests.conftest import ROOT
from tests.test_cli__commands import APPROVAL, assert_one_line_error, environment, ok, sf

OTHER = "tests/fixtures/replacing/approval.bpmn"  # another diagram under the id `approval`


def test_a_replacing_deploy_is_refused_until_confirmed_by_its_key(tmp_path):
    env = environment(tmp_path / "replace.db")
    ok(sf(env, "init"))
    ok(sf(env, "deploy", APPROVAL))
    refused = sf(env, "deploy", OTHER)
    assert refused.returncode == 4
    assert_one_line_error(refused, "“测试审批” (version 1, deployed by system at ", "--replace-process approval")
    assert_one_line_error(sf(env, "deploy", OTHER, "--replace-process", "payment"), "--replace-process approval")
    assert "approval: deployed as version 2" in ok(sf(env, "deploy", OTHER, "--replace-process", "approval"))


def test_the_refusal_speaks_chinese_by_default(tmp_path):
    env = {**environment(tmp_path / "zh.db"), "SALESFLOW_LANG": "zh"}
    ok(sf(env, "init"))
    ok(sf(env, "deploy", APPROVAL))
    assert_one_line_error(sf(env, "deploy", OTHER), "“测试审批”（第 1 版，system 于 ", "--replace-process approval")


def test_an_edited_process_deploys_without_the_flag(tmp_path):
    env = environment(tmp_path / "edit.db")
    ok(sf(env, "init"))
    ok(sf(env, "deploy", APPROVAL))
    edited = tmp_path / "approval"
    shutil.copytree(ROOT / APPROVAL, edited)
    bpmn = edited / "approval.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('name="经理审批"', 'name="经理审核"'), encoding="utf-8")
    assert "approval: deployed as version 2" in ok(sf(env, "deploy", str(edited)))
