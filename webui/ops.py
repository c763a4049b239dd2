"""/healthz and /metrics (Prometheus text format) for load balancers and monitoring.

Command counters and latencies are kept per process by prometheus_client; under
gunicorn set PROMETHEUS_MULTIPROC_DIR (deploy/gunicorn.conf.py does) so that a
scrape of any worker adds up all of them. Gauges (open tasks, timers) come from
the database at scrape time, so they are the same whichever worker answers.
"""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from engine import Engine
from engine.errors import SalesflowError, Unavailable
from webui.context import engine

blueprint = Blueprint("ops", __name__)

# Per-process metrics; under multiprocess mode they are written to files instead of kept in memory.
COMMANDS = Counter("salesflow_commands", "Engine commands run, by command and outcome (ok or error code)",
                   ["command", "outcome"])
LATENCY = Histogram("salesflow_command_seconds", "Time an engine command took, lock waits included", ["command"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def observe(command: str, seconds: float, outcome: str) -> None:
    COMMANDS.labels(command, outcome).inc()
    LATENCY.labels(command).observe(seconds)


class DatabaseGauges:
    """Reads the work waiting in the database when Prometheus scrapes."""

    def __init__(self, eng: Engine) -> None:
        self.engine = eng

    def collect(self):  # noqa: ANN201 - the prometheus_client collector protocol
        g = self.engine.gauges()
        open_tasks = GaugeMetricFamily("salesflow_open_tasks", "Ready tasks, by role", labels=["role"])
        for role, n in sorted(g["open_tasks"].items()):
            open_tasks.add_metric([role], n)
        overdue = GaugeMetricFamily("salesflow_overdue_tasks", "Ready tasks past their due time, by role",
                                    labels=["role"])
        for role, n in sorted(g["overdue_tasks"].items()):
            overdue.add_metric([role], n)
        yield open_tasks
        yield overdue
        yield GaugeMetricFamily("salesflow_timers_waiting", "Timers not yet fired", value=g["timers_waiting"])
        yield GaugeMetricFamily("salesflow_timers_due", "Timers whose time has come, not yet fired",
                                value=g["timers_due"])
        yield GaugeMetricFamily("salesflow_timers_overdue", "Due timers still unfired a minute later: the timer "
                                "workers are down or behind", value=g["timers_overdue"])
        yield GaugeMetricFamily("salesflow_timers_retrying", "Due timers of running instances whose step failed "
                                "and waits out its back-off", value=g["timers_retrying"])
        yield GaugeMetricFamily("salesflow_instances_running", "Instances running (not ended, not halted by an "
                                "incident)", value=g["instances_running"])
        incidents = GaugeMetricFamily("salesflow_incidents_open", "Open incidents (instances halted by a failed "
                                      "timer or message step), by process", labels=["process"])
        for process, n in sorted(g["incidents_open"].items()):
            incidents.add_metric([process], n)
        yield incidents


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(COMMANDS)
        registry.register(LATENCY)
    registry.register(DatabaseGauges(engine()))
    return registry


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers and its schema is the code's; 503 otherwise (with why). `kpi` says whether the
    KPI page can use every count kept for it (a kpi.yaml change needs `salesflow kpi rebuild`)."""
    try:
        schema = engine().health()
    except Exception as exc:  # any failure to reach the database means unhealthy
        return jsonify(status="unavailable", database="unreachable", error=type(exc).__name__), 503
    if not schema["current"]:
        return jsonify(status="unavailable", database="ok", schema=schema,
                       error="the database schema is not the code's: run salesflow init"), 503
    try:
        kpi = _kpi_counts()
    except Unavailable as exc:  # the database went away since the first check
        return jsonify(status="unavailable", database="unreachable", error=type(exc).__name__), 503
    return jsonify(status="ok", database="ok", schema=schema, kpi=kpi), 200


def _kpi_counts() -> dict:
    """Whether the KPI page can use its stored counts. Stale counts make one page slow, and a failure to tell makes
    nothing slow: neither is a reason for the load balancer to take the server out (200 either way)."""
    try:
        kpi = engine().kpi_counts_state()
    except Unavailable:
        raise
    except Exception as exc:
        current_app.logger.exception("the KPI counts could not be checked")
        return {"current": None, "stale": [], "error": f"the KPI counts could not be checked: {type(exc).__name__}"}
    if not kpi["current"]:  # the page still answers, from every source row: slow, not down
        kpi["warning"] = "the KPI page counts these again on every view (slow at scale): run salesflow kpi rebuild"
    return kpi


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus text format. With SALESFLOW_METRICS_TOKEN set, a matching bearer token is required."""
    token = os.environ.get("SALESFLOW_METRICS_TOKEN")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and not hmac.compare_digest(given.encode(), token.encode()):
        return Response("a bearer token is required for /metrics\n", 401, {"WWW-Authenticate": "Bearer"},
                        mimetype="text/plain")
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


@blueprint.errorhandler(SalesflowError)
def _unavailable(exc: SalesflowError) -> Response:
    """A scrape while the database is away: Prometheus records the failed scrape."""
    return Response(f"{exc}\n", exc.status, {"Retry-After": "5"}, mimetype="text/plain")


def init_app(app: Flask, eng: Engine) -> None:
    if observe not in eng.observers:
        eng.observers.append(observe)
    app.register_blueprint(blueprint)
