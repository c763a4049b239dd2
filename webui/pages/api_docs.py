"""/api/v1/docs: the REST API's reference for people, Swagger UI rendering /api/v1/openapi.json.

Swagger UI comes from npm (swagger-ui-dist, pinned in webui/frontend/package.json) and is copied into
static/dist by the front-end build, like bpmn-js: the page loads nothing from another site. The page
is one of the staff pages (logged in, our header, zh or en) although it lives under the API's prefix,
where API clients look for it; the document it renders stays public, as it always was.
"""

from __future__ import annotations

from flask import render_template, url_for
from flask_login import login_required

from webui.pages import blueprint

DOCS_PATH = "/api/v1/docs"


@blueprint.get(DOCS_PATH)
@login_required
def api_docs():  # noqa: ANN201
    return render_template("pages/api_docs.html", openapi_url=url_for("api.openapi_json"),
                           token_url=url_for("api.create_token"))
