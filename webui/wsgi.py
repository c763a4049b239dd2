"""WSGI entry point for production servers: `gunicorn -w 4 -b 0.0.0.0:8000 'webui.wsgi:app'`.

Timers are not fired here (several workers would all poll); run `salesflow worker` beside it.
"""

from engine import Engine
from webui.app import create_app

app = create_app(Engine())
