"""WSGI entry point for production servers: `gunicorn -c deploy/gunicorn.conf.py` (docs/deployment.md).

Timers are not fired here (several workers would all poll); run `salesflow worker` beside it.
"""

from engine import Engine
from webui.app import create_app

app = create_app(Engine())
