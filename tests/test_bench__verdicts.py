"""`make bench` ends with one table of every target's verdict that run (bench/verdicts.py)."""

from __future__ import annotations

import pytest

from bench import verdicts

pytestmark = pytest.mark.db_agnostic


def test_a_verdict_is_recorded_for_the_summary_when_make_bench_names_a_file(tmp_path, monkeypatch):
    record = tmp_path / "verdicts.jsonl"
    monkeypatch.setenv(verdicts.ENV, str(record))
    assert verdicts.verdict("17.2", "sqlite: complete p50 <= 1.5 ms", "2.690 ms", False) == "MISSED"
    assert verdicts.verdict("17.2", "sqlite: complete statements <= 6", "6", True) == "met"
    rows = verdicts.summary(record)
    mine = [r for r in rows if r[0] == "17.2"]
    assert [r[2:] for r in mine] == [["sqlite: complete p50 <= 1.5 ms", "2.690 ms", "MISSED"],
                                     ["sqlite: complete statements <= 6", "6", "met"]]
    assert mine[0][1] == verdicts.TARGETS["17.2"] and mine[1][1] == ""  # the title once per target
    unmeasured = [r[0] for r in rows if r[4] == "not measured"]
    assert unmeasured == [t for t in verdicts.TARGETS if t != "17.2"]


def test_without_the_setting_a_verdict_is_only_the_word(tmp_path, monkeypatch):
    monkeypatch.delenv(verdicts.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert verdicts.verdict("17.1", "REST / raw >= 0.064", "0.0372", False) == "MISSED"
    assert list(tmp_path.iterdir()) == []


def test_the_summary_prints_met_and_missed_and_names_a_target_nobody_measured(tmp_path, monkeypatch, capsys):
    record = tmp_path / "verdicts.jsonl"
    monkeypatch.setenv(verdicts.ENV, str(record))
    verdicts.verdict("17.3", "p95 at 8 clients <= 100 ms", "82.0 ms", True)
    assert verdicts.main([str(record)]) == 0
    out = capsys.readouterr().out
    assert "82.0 ms" in out and "not measured" in out
    assert f"1 of {len(verdicts.TARGETS)} figures met their target" in out


def test_an_unknown_target_is_a_mistake_in_the_benchmark():
    with pytest.raises(ValueError, match="unknown target"):
        verdicts.verdict("17.9", "x", "1", True)
