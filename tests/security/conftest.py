"""The security tests reuse the web fixtures: an app with P5/P6 deployed and its people, API and page clients."""

from tests.web.conftest import _compiled_translations, api, api_token, app, client, pages  # noqa: F401
