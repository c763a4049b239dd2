"""/prices: the company's price list (Engine.prices), with the sales director's forms to add a price and to
end a price's validity (Engine.add_price, Engine.end_price). The engine decides who may read it (sales
staff, finance, the general manager, auditors) and who may change it (the sales director); a refused
value is shown beside its field."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import InvalidData
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import actor, error_text, field_form, header, may

ID = "<id:price_id>"
ROW_FIELDS = ("product", "spec", "grade", "unit", "price_yuan", "valid_from", "valid_to")


def _page(on: str | None = None, added: dict | None = None, add_errors: dict | None = None,
          ended: dict | None = None, status: int = 200) -> tuple[str, int]:
    """`added`: the add form's texts to show again; `ended`: {price id: (text, error)} of an end form."""
    rows = engine().prices(actor(), on=on)
    errors = {name: localized(text) for name, text in (add_errors or {}).items()}
    return render_template("pages/prices.html", rows=rows, on=on or "", may_edit=may_edit_prices(),
                           added=added or {}, errors=errors, ended=ended or {}), status


@blueprint.get("/prices")
@login_required
def prices():  # noqa: ANN201
    on = request.args.get("on") or None
    try:
        return _page(on)
    except InvalidData as exc:
        flash(localized(exc.fields.get("on")) or error_text(exc), "error")
        return _page(None, status=422)


@blueprint.post("/prices")
@login_required
def add_price():  # noqa: ANN201
    row = {name: request.form.get(name, "") for name in ROW_FIELDS}
    try:
        added = engine().add_price(actor(), row)
    except InvalidData as exc:
        return _page(added=row, add_errors=exc.fields or {"row": {"zh": str(exc), "en": str(exc)}}, status=422)
    flash(_("Price #%(id)s added: %(product)s / %(spec)s / %(grade)s, %(price)s yuan per %(unit)s from %(day)s.",
            id=added["id"], product=added["product"], spec=added["spec"], grade=added["grade"],
            price=added["price_yuan"], unit=added["unit"], day=added["valid_from"]), "info")
    return redirect(url_for("pages.prices"))


@blueprint.post(f"/prices/{ID}/end")
@login_required
def end_price(price_id: int):  # noqa: ANN201
    """End a price's validity on a day; a day the engine refuses is shown beside the price's row."""
    return field_form(
        "valid_to", lambda day: engine().end_price(actor(), price_id, day),
        refused=lambda day, why: _page(ended={price_id: (day, why)}, status=422),
        done=lambda after: _("Price #%(id)s now applies until %(day)s.", id=after["id"], day=after["valid_to"]),
        back="pages.prices")


def may_read_prices() -> bool:
    """Whether to show the header's link (the engine decides)."""
    return bool(header("prices"))


def may_edit_prices() -> bool:
    return may("edit_prices", engine().may_edit_prices)


@blueprint.context_processor
def _prices_nav() -> dict:
    return {"may_read_prices": may_read_prices}
