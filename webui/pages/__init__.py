"""The staff pages (Jinja2): login, inbox, task, start, instance, language.

Every decision (who may see or do what, whether data is valid) is the engine's:
these views turn requests into engine calls and engine results or errors into pages.
"""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("pages", __name__)

from webui.pages import common, inbox, instance, language, login, start, task  # noqa: E402, F401, I001  (routes)
from webui.pages import model, model_check, model_deploy, model_editor, model_migrate  # noqa: E402, F401
from webui.pages import history  # noqa: E402, F401
from webui.pages import kpi  # noqa: E402, F401
from webui.pages import search  # noqa: E402, F401
from webui.pages import accounts  # noqa: E402, F401
from webui.pages import incidents  # noqa: E402, F401
from webui.pages import prices  # noqa: E402, F401
from webui.pages import api_docs  # noqa: E402, F401
from webui.pages import notifications  # noqa: E402, F401
from webui.pages import customers  # noqa: E402, F401
from webui.pages import model_governance  # noqa: E402, F401
