"""Flask application factory."""

from __future__ import annotations

from flask import Flask, jsonify, render_template

from engine import Engine


def create_app(engine: Engine) -> Flask:
    app = Flask(__name__)
    app.extensions["salesflow"] = engine

    @app.get("/")
    def index():  # noqa: ANN202
        return render_template("index.html", processes=engine.processes())

    @app.get("/healthz")
    def healthz():  # noqa: ANN202
        return jsonify(status="ok")

    return app
