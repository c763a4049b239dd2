"""The workers announce deadlines and send e-mails: the timer worker's loop (also inside `salesflow serve`)
and `salesflow worker --once`."""

from __future__ import annotations

import os
import subprocess
import threading
import time

from tests.cli_runner import INSTALLED
from tests.conftest import ROOT
from tests.test_notify__events import samples  # noqa: F401 - the fixture
from tests.web.conftest import SAMPLE_REQUEST


def test_the_timer_workers_loop_announces_a_passed_deadline(samples, clock):  # noqa: F811
    samples.start("rep1", "sample_request", dict(SAMPLE_REQUEST))
    clock.advance(days=3)
    stop = threading.Event()
    worker = threading.Thread(target=samples.run_worker, args=(stop, 0.05), daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while samples.unread_notifications("mgr1") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(10)
    kinds = [i["kind"] for i in samples.notifications("mgr1")["items"]]
    assert kinds == ["overdue", "offered"]


def test_worker_once_reports_what_it_announced_and_sent(samples, db_url):  # noqa: F811
    samples.start("rep1", "sample_request", dict(SAMPLE_REQUEST))  # due 2026-03-03: long past by the system clock
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESFLOW_")}
    env["SALESFLOW_DATABASE_URL"] = db_url
    done = subprocess.run([str(INSTALLED), "worker", "--once"], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "1 overdue task(s) announced, 0 e-mail(s) sent" in done.stdout
    assert [i["kind"] for i in samples.notifications("mgr2")["items"]] == ["overdue", "offered"]
