"""Flask application factory: pages, the REST API and the security around them."""

from __future__ import annotations

from flask import Flask

from engine import Engine
from webui import auth, i18n, ops, security
from webui.converters import IdConverter


def create_app(engine: Engine, config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(security.defaults())
    app.config.update(config or {})
    app.extensions["salesflow"] = engine
    app.url_map.converters["id"] = IdConverter
    security.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)

    from webui.api import blueprint as api
    from webui.pages import blueprint as pages

    app.register_blueprint(api, url_prefix="/api/v1")
    security.csrf.exempt(api)  # bearer tokens, not cookies: no CSRF exposure
    app.register_blueprint(pages)
    ops.init_app(app, engine)
    return app
