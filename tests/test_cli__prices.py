"""`salesflow prices import|list` and the demo price list of `salesflow init --demo`, run as real subprocesses."""

from __future__ import annotations

import json

from tests.test_cli__commands import PASSWORD, assert_one_line_error, environment, ok, sf

LIST = "tests/fixtures/prices/list.csv"


def test_import_checks_every_line_dry_run_first_then_lists_by_day(tmp_path):
    env = environment(tmp_path / "prices.db")
    ok(sf(env, "init"))
    ok(sf(env, "users", "add", "dir1", "--role", "sales_director", "--password-stdin", stdin=PASSWORD))
    ok(sf(env, "users", "add", "rep1", "--role", "sales_rep", "--before-training", "--password-stdin", stdin=PASSWORD))

    bad = tmp_path / "bad.csv"
    bad.write_text("product,spec,grade,unit,price_yuan,valid_from\nP·O 42.5,散装,一等品,吨,4.205,2026-01-01\n"
                   "P·O 52.5,散装,一等品,吨,430,01/01/2026\n", encoding="utf-8")
    done = sf(env, "prices", "import", str(bad), "--as", "dir1")
    assert done.returncode == 4 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "error: 2 row(s) are not valid: nothing was saved"
    assert lines[1].startswith("  line 2: price (yuan): Must be an amount above 0 with at most two decimals")
    assert lines[2] == "  line 3: valid from: Must be a date YYYY-MM-DD"

    out = ok(sf(env, "prices", "import", LIST, "--as", "dir1", "--dry-run"))
    assert out.splitlines() == ["list.csv: would add 5 price(s)", "dry run: nothing was saved"]
    assert json.loads(ok(sf(env, "prices", "list", "--json"))) == []

    assert ok(sf(env, "prices", "import", LIST, "--as", "dir1")).startswith("list.csv: added 5 price(s)")
    listed = ok(sf(env, "prices", "list", "--on", "2026-04-01", "--as", "rep1")).splitlines()
    assert [line.split()[1:] for line in listed] == [
        ["P·O", "42.5", "/", "散装", "/", "一等品", "440.00", "per", "吨", "2026-04-01", "..", "open"],
        ["P·O", "42.5", "/", "袋装", "50kg", "/", "一等品", "450.00", "per", "吨", "2026-01-01", "..", "open"],
        ["P·O", "52.5", "/", "散装", "/", "一等品", "430.00", "per", "吨", "2026-01-01", "..", "open"]]
    assert_one_line_error(sf(env, "prices", "import", LIST, "--as", "rep1"), "only the sales director")
    done = sf(env, "prices", "list", "--on", "tomorrow")
    assert (done.returncode, done.stderr.splitlines()) == (4, ["error: on must be a date YYYY-MM-DD",
                                                               "  on: Must be a date YYYY-MM-DD"])
    verify = ok(sf(env, "audit", "verify", "--list", "--quiet"))
    assert "prices: verified (1 events)" in verify


def test_the_demo_has_a_price_list_once(tmp_path):
    env = environment(tmp_path / "demo.db")
    out = ok(sf(env, "init", "--demo"))
    assert "price list: 9 demo price(s) from demo/prices.csv" in out
    assert "price list: kept as it is" in ok(sf(env, "init", "--demo"))
    rows = json.loads(ok(sf(env, "prices", "list", "--json", "--as", "sales_rep")))
    assert len(rows) == 9 and {r["unit"] for r in rows} == {"吨"}
