"""WSGI entry point for production servers: `gunicorn -c deploy/gunicorn.conf.py` (docs/deployment.md).

Timers are not fired here (several workers would all poll); run `salesflow worker` beside it.
"""

from engine import Engine
from engine.config import SettingError
from webui.app import create_app


def _unusable(exc: SettingError) -> Exception:
    """An operator's setting that cannot be used stops the server with one line naming it: gunicorn prints an
    AppImportError's message alone and halts ("App failed to load") instead of booting worker after worker."""
    try:
        from gunicorn.errors import AppImportError
    except ImportError:  # another WSGI server
        return SystemExit(f"error: {exc}")
    return AppImportError(f"error: {exc}")


try:
    app = create_app(Engine())
except SettingError as exc:
    raise _unusable(exc) from None
