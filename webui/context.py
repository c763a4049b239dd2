"""Access to the engine from a request."""

from __future__ import annotations

from flask import current_app

from engine import Engine


def engine() -> Engine:
    return current_app.extensions["salesflow"]
