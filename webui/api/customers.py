"""Customers (issue 14 item 7): the list, one customer with its contact log, logging a call, letter or visit,
and giving a customer to another representative. Who may do what is the engine's (engine/runtime/access.py)."""

from __future__ import annotations

from flask import Response, jsonify, request

from webui.api import blueprint, shapes
from webui.api.body import actor, json_object, text_arg
from webui.context import engine

ID = "<id:customer_id>"


@blueprint.get("/customers")
def list_customers() -> Response:
    who = actor()
    # the status as given (`?status=` too): the engine refuses anything but a status it knows
    rows = engine().customers(who, owner=text_arg("owner"), name=text_arg("name"), status=request.args.get("status"))
    return jsonify([shapes.customer(c) for c in rows])


@blueprint.get(f"/customers/{ID}")
def get_customer(customer_id: int) -> Response:
    return jsonify(shapes.customer_detail(engine().customer(actor(), customer_id)))


@blueprint.post(f"/customers/{ID}/contacts")
def log_contact(customer_id: int) -> Response:
    """{kind, happened_on, summary, instance_id?}: 201 with the logged entry."""
    who = actor()
    logged = engine().log_contact(who, customer_id, json_object())
    return jsonify(shapes.contact(logged)), 201


@blueprint.post(f"/customers/{ID}/owner")
def change_owner(customer_id: int) -> Response:
    """{owner, reason}: the customer afterwards (the sales manager)."""
    who = actor()
    return jsonify(shapes.customer(engine().change_customer_owner(who, customer_id, json_object())))
