"""Issue 11, finding 7 (edges) on the command line: `--data` is read by the API's strict JSON reader
(no NaN or Infinity, at most 64 levels), and the engine refuses numbers JSON cannot hold exactly.
Each is an error (one line, or the form's field messages below it), no traceback, nothing started."""

from __future__ import annotations

import pytest

from tests.test_cli__commands import APPROVAL, PASSWORD, assert_one_line_error, environment, ok, sf


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> dict[str, str]:
    env = environment(tmp_path_factory.mktemp("cli-edges") / "salesflow.db")
    ok(sf(env, "init"))
    ok(sf(env, "users", "add", "rep", "--role", "sales_rep", "--before-training", "--password-stdin", stdin=PASSWORD))
    ok(sf(env, "deploy", APPROVAL))
    return env


@pytest.mark.parametrize(("amount", "words"), [
    ("NaN", ("--data", "NaN")), ("-Infinity", ("--data", "Infinity")),
    ("[" * 1000 + "]" * 1000, ("--data", "nested deeper than 64 levels"))])
def test_nan_infinity_and_deep_nesting_are_one_error_line(cli, amount, words):
    data = '{"customer_name": "ACME", "amount_yuan": ' + amount + "}"
    assert_one_line_error(sf(cli, "start", "approval", "--as", "rep", "--data", data), *words)
    assert "instance:" not in ok(sf(cli, "audit", "verify", "--list"))


@pytest.mark.parametrize(("amount", "message"), [
    ("1e400", "amount_yuan: Must be a finite number"),
    (str(2**53 + 1), "amount_yuan: Out of range: the number may be at most 9007199254740991 either side of zero")])
def test_numbers_json_cannot_hold_exactly_are_refused_by_the_form(cli, amount, message):
    data = '{"customer_name": "ACME", "amount_yuan": ' + amount + "}"
    done = sf(cli, "start", "approval", "--as", "rep", "--data", data)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert "instance:" not in ok(sf(cli, "audit", "verify", "--list"))
