"""Finding instances (filters, paged results), exporting them, and one instance's printable report.

The engine decides who finds what and checks every filter; this module turns the query string
into an engine call and its answer (or its field messages) into the page.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.config import COMPANY_TZ
from engine.errors import InvalidData
from engine.runtime.search import FILTERS as FIELDS
from engine.runtime.search import STATUSES
from webui import forms_render
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import actor, processes
from webui.pages.history import shown_changes, teller
from webui.pages.labels import data_labels, ordered

PER_PAGE = "25"
# a BOM first: Excel then reads the UTF-8 (Chinese) text as UTF-8 (docs/audit.md)
BOM = "\ufeff"
TYPES = {"json": "application/json", "csv": "text/csv"}


def _filters() -> dict[str, str]:
    """The filters the query string sets (empty fields are no filter)."""
    return {name: request.args[name] for name in FIELDS if request.args.get(name, "") != ""}


def _paging() -> dict[str, str]:
    return {k: request.args[k] for k in ("per_page",) if request.args.get(k)}


def _company_now() -> datetime:
    return engine().clock.now().astimezone(ZoneInfo(COMPANY_TZ))


def _download(content: str, fmt: str, filename: str) -> Response:
    body = BOM + content if fmt == "csv" else content
    response = Response(body, mimetype=TYPES[fmt])
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blueprint.get("/instances")
@login_required
def search():  # noqa: ANN201
    filters, paging = _filters(), _paging()
    errors: dict[str, str] = {}
    result = None
    try:
        result = engine().search(actor(), filters, page=request.args.get("page", "1"),
                                 per_page=paging.get("per_page", PER_PAGE))
    except InvalidData as exc:
        errors = {name: localized(text) for name, text in exc.fields.items()}
    pages = None
    if result:
        here = {**filters, **paging}
        pages = {"prev": url_for("pages.search", **here, page=result["page"] - 1) if result["page"] > 1 else None,
                 "next": url_for("pages.search", **here, page=result["page"] + 1)
                 if result["page"] < result["pages"] else None}
    exports = {fmt: url_for("pages.search_export", format=fmt, **filters) for fmt in TYPES}
    # where each running request waits and for whom: what a requester looks for first ("my requests")
    waiting = engine().waiting(actor(), [i["id"] for i in result["items"]]) if result else {}
    mine = set(filters) == {"started_by"} and filters["started_by"] == current_user.username
    return render_template("pages/search.html", filters=filters, result=result, errors=errors, pages=pages,
                           exports=exports, processes=processes(), statuses=STATUSES, waiting=waiting, mine=mine,
                           outcomes=engine().outcomes()), (422 if errors else 200)


@blueprint.get("/instances/export")
@login_required
def search_export():  # noqa: ANN201
    """Everything the search finds, with every trail: ?format=json (a bundle) or csv, and the filters."""
    filters, fmt = _filters(), request.args.get("format", "json")
    try:
        content = engine().export_search(actor(), filters, fmt)
    except InvalidData as exc:
        for text in exc.fields.values():
            flash(localized(text), "error")
        return redirect(url_for("pages.search", **filters))
    stamp = _company_now().strftime("%Y%m%d-%H%M")
    return _download(content, fmt, f"salesflow-instances-{stamp}.{fmt}")


@blueprint.get("/instances/<id:instance_id>/export.<any(json, csv):fmt>")
@login_required
def instance_export(instance_id: int, fmt: str):  # noqa: ANN201
    """One instance's trail: JSON verifiable offline (docs/audit.md) or CSV."""
    content = engine().export(instance_id, fmt, actor=actor())
    return _download(content, fmt, f"salesflow-instance-{instance_id}.{fmt}")


def _moment(at: str) -> str:
    """An event's instant in company time, to the second."""
    return datetime.fromisoformat(at).astimezone(ZoneInfo(COMPANY_TZ)).strftime("%Y-%m-%d %H:%M:%S")


@blueprint.get("/instances/<id:instance_id>/report")
@login_required
def instance_report(instance_id: int):  # noqa: ANN201
    """The instance's whole history on one printable page, with the trail's verification."""
    inst = engine().instance(actor(), instance_id)  # refuses whoever may not see it
    entries = engine().timeline(actor(), instance_id)
    chain = next(iter(engine().verify_chains(instance_id)))
    labels = data_labels(inst)
    return render_template("pages/instance_report.html", inst=inst,
                           events=[{**e, "moment": _moment(e["at"])} for e in entries], chain=chain,
                           changes=shown_changes, told=teller(labels),
                           final_hash=entries[-1]["hash"] if entries else None, labels=labels,
                           data=ordered(inst["data"], labels), show=forms_render.show,
                           printed=_company_now().strftime("%Y-%m-%d %H:%M"))
