"""One-time form tokens for the start and task forms.

Each rendering of those forms carries a fresh random token in a hidden field; the page sends it
to the engine as the command's idempotency key (engine/runtime/idempotency.py). So a form sent
twice — a double click, the back button and send again, a retry after the answer was lost — does
not start a second request or fail oddly: the second send gets the first one's result and lands
on the same page. A form shown again with its errors keeps its token (nothing was saved under it).
"""

from __future__ import annotations

import secrets

from flask import request
from flask_babel import gettext as _

from engine.errors import InvalidData
from engine.runtime.idempotency import FIELD

NAME = "form_token"


def new() -> str:
    return secrets.token_urlsafe(18)


def posted() -> str | None:
    """The token the form was sent with (None from a form without one: then nothing is remembered)."""
    return request.form.get(NAME) or None


def refused(exc: InvalidData) -> dict[str, str] | None:
    """The page's words when the engine refused the token itself: it was used for other values
    (the form was sent, then changed and sent again), or it is not one of ours."""
    if FIELD not in exc.fields:
        return None
    message = _("This form was already sent with other values. Check the values and send the form again.")
    return {"zh": message, "en": message}
