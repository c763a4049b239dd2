"""Running salesflow: the web server (with its embedded timer worker) and standalone workers."""

from __future__ import annotations

import signal
import threading

import click

from salesflow.cli.common import checked, engine


@click.command(help="Serve the web application; a timer worker runs inside it.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-worker", is_flag=True, help="do not run the embedded timer worker")
def serve(host: str, port: int, no_worker: bool) -> None:
    from webui.app import create_app
    from webui.serving import serve as serve_app

    eng = engine()
    stop = threading.Event()
    if not no_worker:
        threading.Thread(target=eng.run_worker, args=(stop,), name="timer-worker", daemon=True).start()
    click.echo(f"salesflow serving on http://{host}:{port}/ (timer worker: {'off' if no_worker else 'on'})")
    try:
        serve_app(create_app(eng), host, port)
    finally:
        stop.set()


@click.command(help="Fire due timers until stopped (run several on PostgreSQL; each timer fires once).")
@click.option("--interval", default=1.0, show_default=True, help="seconds between passes")
@click.option("--once", is_flag=True, help="one pass, then exit")
def worker(interval: float, once: bool) -> None:
    eng = engine()
    checked(eng.processes)  # fails with one clear line when the database has no tables
    if once:
        click.echo(f"{checked(eng.fire_due_timers)} timer(s) fired")
        sent = checked(eng.run_notifications)
        click.echo(f"{sent['overdue']} overdue task(s) announced, {sent['sent']} e-mail(s) sent, "
                   f"{sent['retrying']} to retry, {sent['failed']} given up")
        tidied = checked(eng.tidy)
        click.echo(f"{tidied['idempotency_keys']} expired idempotency key(s) and "
                   f"{tidied['login_records']} old login record(s) deleted")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"timer worker running every {interval}s (Ctrl-C or SIGTERM stops it)")
    try:
        eng.run_worker(stop, interval)
    except KeyboardInterrupt:
        stop.set()


COMMANDS = [serve, worker]
