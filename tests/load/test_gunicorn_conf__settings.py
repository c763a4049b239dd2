"""deploy/gunicorn.conf.py: every name in it is a gunicorn setting or hook (a typo would be ignored
silently by gunicorn), and the environment overrides what docs/deployment.md says it does."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from gunicorn.config import Config

CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"
HOOKS = {"on_starting", "post_fork", "child_exit"}


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    for name in ("SALESFLOW_BIND", "SALESFLOW_WEB_WORKERS", "SALESFLOW_WEB_THREADS", "SALESFLOW_WEB_PRELOAD",
                 "SALESFLOW_CONTROL_SOCKET", "SALESFLOW_WEB_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return {k: v for k, v in runpy.run_path(str(CONF)).items() if not k.startswith("_")}


def settings(namespace: dict) -> dict:
    return {k: v for k, v in namespace.items() if not callable(v) and not isinstance(v, type(os))
            and k not in ("annotations",)}


def test_every_name_is_a_gunicorn_setting_that_gunicorn_accepts(monkeypatch, tmp_path) -> None:
    namespace = load(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    cfg = Config()
    for name, value in settings(namespace).items():
        assert name in cfg.settings, f"{name} is not a gunicorn setting"
        cfg.set(name, value)  # gunicorn's own validation
    assert {k for k, v in namespace.items() if callable(v)} >= HOOKS


def test_defaults_are_the_documented_ones(monkeypatch, tmp_path) -> None:
    ns = load(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    assert ns["workers"] == 2 * (os.cpu_count() or 1) + 1
    assert (ns["threads"], ns["worker_class"], ns["preload_app"]) == (1, "sync", False)
    assert ns["bind"] == ["127.0.0.1:8000"]
    assert ns["control_socket_disable"] is True  # two servers on a host must not share ~/.gunicorn/gunicorn.ctl
    assert ns["max_requests"] > 0 and 0 < ns["max_requests_jitter"] < ns["max_requests"]
    assert ns["graceful_timeout"] >= 1 and ns["timeout"] >= 1


def test_the_environment_sets_size_bind_and_threads(monkeypatch, tmp_path) -> None:
    ns = load(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path), SALESFLOW_WEB_WORKERS="3",
              SALESFLOW_WEB_THREADS="4", SALESFLOW_BIND="0.0.0.0:8123", SALESFLOW_WEB_PRELOAD="1",
              SALESFLOW_CONTROL_SOCKET=str(tmp_path / "ctl"))
    assert (ns["workers"], ns["threads"], ns["worker_class"]) == (3, 4, "gthread")
    assert ns["bind"] == ["0.0.0.0:8123"] and ns["preload_app"] is True
    assert ns["control_socket"] == str(tmp_path / "ctl") and ns["control_socket_disable"] is False


def test_without_a_metrics_folder_one_is_made_and_emptied_at_start(monkeypatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "placeholder")  # restored after the test
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    ns = load(monkeypatch)
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert folder.is_dir()
    (folder / "counter_123.db").write_bytes(b"old run")
    ns["on_starting"](None)
    assert list(folder.iterdir()) == []
    folder.rmdir()


@pytest.mark.parametrize("name", ["SALESFLOW_WEB_WORKERS", "SALESFLOW_WEB_THREADS", "SALESFLOW_WEB_TIMEOUT"])
def test_a_size_that_is_not_a_whole_number_stops_gunicorn_with_one_line_naming_it(monkeypatch, tmp_path, name) -> None:
    with pytest.raises(SystemExit) as stopped:
        load(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path), **{name: "many"})
    assert str(stopped.value) == f"error: {name} must be a whole number of at least 1, not 'many'"
    with pytest.raises(SystemExit):
        load(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path), **{name: "0"})


def test_an_unusable_application_setting_halts_gunicorn_without_a_traceback(tmp_path) -> None:
    """The workers read the application's settings: one that cannot be used (here the workflow cache's size)
    stops the whole server with its one line, instead of a traceback per worker and workers booted again and
    again."""
    env = {**os.environ, "SALESFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "SALESFLOW_BIND": "127.0.0.1:0",
           "SALESFLOW_WEB_WORKERS": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
           "SALESFLOW_WORKFLOW_CACHE_MB": "lots"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    done = subprocess.run([str(gunicorn), "-c", str(CONF)], cwd=CONF.parents[1], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 4  # gunicorn's "App failed to load": the master halts
    assert "error: SALESFLOW_WORKFLOW_CACHE_MB must be a whole number, not 'lots'" in done.stderr.splitlines()
    assert "Traceback" not in done.stderr
