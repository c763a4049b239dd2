"""Settings read from the environment, with the embedded defaults."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
COMPANY_TZ = "Asia/Shanghai"


def database_url() -> str:
    """`SALESFLOW_DATABASE_URL`, or an SQLite file under `instance/`."""
    url = os.environ.get("SALESFLOW_DATABASE_URL", "").strip()
    if url:
        return usable_database_url(url)
    folder = PROJECT_ROOT / "instance"
    folder.mkdir(exist_ok=True)
    return f"sqlite:///{folder / 'salesflow.db'}"


# the drivers installed with salesflow; a URL naming no driver gets these, as one pasted from elsewhere would
DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
URL_FORMS = "sqlite:///<file> or postgresql+psycopg://<user>@<host>:<port>/<database>"


def usable_database_url(url: str) -> str:
    """The URL with the driver salesflow installs (`postgresql://` takes psycopg 3); SettingError, naming the
    variable and never echoing a password, for anything else: else SQLAlchemy's traceback would be all an
    operator sees of a typing mistake."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingError(f"SALESFLOW_DATABASE_URL is not a database URL; it takes {URL_FORMS}") from None
    backend, _, driver = parsed.drivername.partition("+")
    known = {"sqlite": {"", "pysqlite"}, "postgresql": {"", "psycopg"}, "postgres": {""}}
    if driver not in known.get(backend, set()):
        shown = parsed.render_as_string(hide_password=True)
        raise SettingError(f"SALESFLOW_DATABASE_URL names a database salesflow does not run on ({shown}); "
                           f"it takes {URL_FORMS}")
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).resolve().parent
        if not folder.is_dir():  # SQLite creates the file, not its folder; its own error says neither
            raise SettingError(f"SALESFLOW_DATABASE_URL: the folder of its SQLite file does not exist ({folder})")
    if not driver:
        parsed = parsed.set(drivername=DRIVERS[backend])
    return parsed.render_as_string(hide_password=False)


def roles_file() -> Path:
    return Path(os.environ.get("SALESFLOW_ROLES_FILE", PROJECT_ROOT / "processes" / "roles.yaml"))


def outcomes_file() -> Path:
    return Path(os.environ.get("SALESFLOW_OUTCOMES_FILE", PROJECT_ROOT / "processes" / "outcomes.yaml"))


def calendar_file() -> Path:
    return Path(os.environ.get("SALESFLOW_CALENDAR_FILE", PROJECT_ROOT / "processes" / "calendar.yaml"))


def replay_cache_size() -> int:
    """`SALESFLOW_REPLAY_CACHE_SIZE`: how many replays each process keeps (docs/deployment.md gives the cost)."""
    return whole_number("SALESFLOW_REPLAY_CACHE_SIZE", 32)


def inbox_count_cap() -> int:
    """`SALESFLOW_INBOX_COUNT_CAP`: the navigation counts each inbox source up to this many tasks and shows
    more as "999+" (engine/runtime/queries.py inbox_counts; README, "Scale-out and performance")."""
    return whole_number("SALESFLOW_INBOX_COUNT_CAP", 999, minimum=1)


def workflow_cache_mb() -> int:
    """`SALESFLOW_WORKFLOW_CACHE_MB`: how much saved state text each process keeps restored between commands
    (engine/runtime/warm_workflows.py; docs/deployment.md gives the memory it costs); 0 keeps none."""
    return whole_number("SALESFLOW_WORKFLOW_CACHE_MB", 8)


class SettingError(ValueError):
    """An environment setting that cannot be used: the message names the variable and what it takes."""


def whole_number(name: str, default: int, minimum: int = 0) -> int:
    """A whole number of at least `minimum` from the environment variable `name`, or `default` when it is unset.
    Read on every call, so an operator's restart or a test's change of the variable is seen."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        least = f" of at least {minimum}" if minimum else ""
        raise SettingError(f"{name} must be a whole number{least}, not {raw!r}")
    return int(raw)
