"""/customers: the customers with their owners (Engine.customers), one customer with its contact log and the
cases about it (Engine.customer, Engine.search by the customer's name), the form to log a call, letter or visit
(Engine.log_contact) and the sales manager's form to give the customer to another representative
(Engine.change_customer_owner). The engine decides who may do what; a refused value is shown beside its field."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import InvalidData
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import actor, header
from webui.pages.labels import person_name

ID = "<id:customer_id>"
CONTACT_FIELDS = ("kind", "happened_on", "summary", "instance_id")


def kind_names() -> dict[str, str]:
    return {"call": _("Call"), "letter": _("Letter"), "visit": _("Visit"), "other": _("Other contact")}


def status_names() -> dict[str, str]:
    return {"active": _("Accepted (active)"), "rejected": _("Refused")}


def class_names() -> dict[str, str]:
    return {"key_account": _("Key account"), "local": _("Local customer")}


def source_names() -> dict[str, str]:
    return {"own_development": _("Developed by the representative"), "phone": _("Telephone call"),
            "visit": _("Visit to us"), "referral": _("Referral"), "exhibition": _("Trade fair"), "web": _("Web"),
            "other": _("Other")}


def refusal_names() -> dict[str, str]:
    return {"duplicate": _("Already registered"), "not_prospect": _("Not a real prospect")}


def _names() -> dict:
    return {"kind_names": kind_names(), "status_names": status_names(), "class_names": class_names(),
            "source_names": source_names(), "refusal_names": refusal_names()}


@blueprint.get("/customers")
@login_required
def customers():  # noqa: ANN201
    owner = request.args.get("owner") or None
    name = request.args.get("name") or None
    rows = engine().customers(actor(), owner=owner, name=name)
    owners = sorted(engine().customer_owners(), key=person_name)
    return render_template("pages/customers.html", rows=rows, owner=owner or "", name=name or "", owners=owners,
                           pending=engine().customer_registrations(actor()), **_names())


def _detail(customer_id: int, logged: dict | None = None, log_errors: dict | None = None,
            owner_form: dict | None = None, owner_errors: dict | None = None, status: int = 200) -> tuple[str, int]:
    c = engine().customer(actor(), customer_id)
    cases = engine().search(actor(), {"customer": c["name"]}, per_page=50)["items"]
    cases = [i for i in cases if (i.get("customer_name") or "").split() == c["name"].split()]
    rights = engine().customer_rights(actor())
    return render_template(
        "pages/customer.html", c=c, cases=cases, rights=rights, logged=logged or {},
        log_errors={k: localized(v) for k, v in (log_errors or {}).items()}, owner_form=owner_form or {},
        owner_errors={k: localized(v) for k, v in (owner_errors or {}).items()},
        owners=sorted(engine().customer_owners(), key=person_name), **_names()), status


@blueprint.get(f"/customers/{ID}")
@login_required
def customer(customer_id: int):  # noqa: ANN201
    return _detail(customer_id)


@blueprint.post(f"/customers/{ID}/contacts")
@login_required
def log_contact(customer_id: int):  # noqa: ANN201
    entry = {name: request.form.get(name, "") for name in CONTACT_FIELDS}
    try:
        engine().log_contact(actor(), customer_id, entry)
    except InvalidData as exc:
        return _detail(customer_id, logged=entry, log_errors=exc.fields or {"_form": {"zh": str(exc), "en": str(exc)}},
                       status=422)
    flash(_("The %(kind)s is logged.", kind=kind_names().get(entry["kind"], "")), "info")
    return redirect(url_for("pages.customer", customer_id=customer_id) + "#contacts")


@blueprint.post(f"/customers/{ID}/owner")
@login_required
def change_owner(customer_id: int):  # noqa: ANN201
    change = {"owner": request.form.get("owner", ""), "reason": request.form.get("reason", "")}
    try:
        after = engine().change_customer_owner(actor(), customer_id, change)
    except InvalidData as exc:
        return _detail(customer_id, owner_form=change, owner_errors=exc.fields, status=422)
    flash(_("%(customer)s is now owned by %(person)s.", customer=after["name"], person=person_name(after["owner"])),
          "info")
    return redirect(url_for("pages.customer", customer_id=customer_id))


def may_read_customers() -> bool:
    """Whether to show the header's link (the engine decides)."""
    return bool(header("customers"))


@blueprint.context_processor
def _customers_nav() -> dict:
    return {"may_read_customers": may_read_customers}
