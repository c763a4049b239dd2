"""The inbox and one task: read it with its form, claim, unclaim, complete."""

from __future__ import annotations

from uuid import UUID

from flask import Response, jsonify, request

from engine.runtime.queries import MAX_PAGE
from webui.api import blueprint, shapes
from webui.api.body import (
    actor,
    caller,
    flag,
    idempotency_key,
    integer,
    replayed,
    submitted,
    text_arg,
)
from webui.context import engine


@blueprint.get("/tasks")
def inbox() -> Response:
    who = actor()
    rows = engine().inbox(who, process=text_arg("process"), role=text_arg("role"), overdue=flag("overdue"),
                          limit=integer("limit", maximum=MAX_PAGE), offset=integer("offset", minimum=0) or 0,
                          sort=request.args.get("sort", "created"))  # given but empty: refused, not the default
    return jsonify([shapes.inbox_row(t) for t in rows])


@blueprint.get("/tasks/<uuid:task_id>")
def get_task(task_id: UUID) -> Response:
    return jsonify(shapes.task_detail(engine().task(actor(), str(task_id))))


@blueprint.post("/tasks/<uuid:task_id>/claim")
def claim(task_id: UUID) -> tuple[Response, int, dict]:
    answer = engine().claim_once(caller(), str(task_id), idempotency_key=idempotency_key())
    return jsonify(shapes.task(answer.view)), 200, replayed(answer.repeated)


@blueprint.post("/tasks/<uuid:task_id>/unclaim")
def unclaim(task_id: UUID) -> Response:
    who = actor()
    engine().unclaim(who, str(task_id))
    return jsonify(shapes.task(engine().task(who, str(task_id))))


@blueprint.post("/tasks/<uuid:task_id>/complete")
def complete(task_id: UUID) -> tuple[Response, int, dict]:
    who = caller()
    data, _ = submitted()
    answer = engine().complete_once(who, str(task_id), data, idempotency_key=idempotency_key())
    return jsonify(shapes.instance(answer.view)), 200, replayed(answer.repeated)
