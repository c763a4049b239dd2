"""/kpi: the KPI dashboard (Engine.kpi), as server-side SVG bar charts with the numbers beside them.

The engine decides who may see it (auditors, administrators, managers: others get 403) and
validates the filters; a refused filter is shown as a message under its field.
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import InvalidData
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import actor, header, process_name, processes, role_name
from webui.pages.labels import person_name

FILTERS = ("from", "to", "process")


def measure_name(key: str) -> str:
    names = {"first_response": _("First response"), "resolution": _("Resolution")}
    return names.get(key, key)


def group_label(dimension: str, key: str | None) -> str:
    """A row's label: a month, a process's or role's name, a user name; None = not attributed yet."""
    if key is None:
        return _("Not yet attributed")
    if dimension == "by_process":
        return process_name(key)
    if dimension == "by_role":
        return role_name(key)
    if dimension == "by_person":
        return person_name(key)
    return key


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def number(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def hours(value: float | None) -> str:
    return "–" if value is None else f"{value:g} h"


def money(value: float | None) -> str:
    """Yuan to the fen, with thousands separators: 110,000.50."""
    return "–" if value is None else f"{value:,.2f}"


def signed_percent(value: float | None) -> str:
    """A change: +12.5%, -13.3%, or – when there is nothing to compare with."""
    return "–" if value is None else f"{value * 100:+.1f}%"


def growth_bars(rows: list[dict]) -> list[dict]:
    """One bar per month, as long as the change is large; a decline is drawn in the warning colour."""
    return [{"label": r["key"], "value": None if r["growth"] is None else abs(r["growth"]),
             "text": signed_percent(r["growth"]), "cls": "negative" if (r["growth"] or 0) < 0 else ""} for r in rows]


def bars(rows: list[dict], value: str, text, dimension: str | None = None) -> list[dict]:  # noqa: ANN001
    """Chart bars from report rows: {label, value, text}."""
    return [{"label": group_label(dimension, r["key"]) if dimension else r["key"], "value": r[value],
             "text": text(r[value])} for r in rows]


def labelled_bars(rows: list[dict], value: str, text) -> list[dict]:  # noqa: ANN001
    """Chart bars from rows that carry their own label ({zh, en}: a form's option, or "not decided yet")."""
    return [{"label": localized(r["label"]), "value": r[value], "text": text(r[value])} for r in rows]


def distribution_bars(figures: dict) -> list[dict]:
    """One bar per score 1..5 (none when nothing was scored)."""
    if not figures["count"]:
        return []
    return [{"label": _("%(score)s points", score=score), "value": n, "text": str(n)}
            for score, n in enumerate(figures["distribution"], start=1)]


def dimensions() -> list[tuple[str, str]]:
    return [("by_month", _("Month")), ("by_process", _("Process")), ("by_role", _("Role")),
            ("by_person", _("Person"))]


@blueprint.get("/kpi")
@login_required
def kpi():  # noqa: ANN201
    chosen = {name: request.args.get(name, "").strip() for name in FILTERS}
    errors: dict[str, str] = {}
    report = None
    try:
        report = engine().kpi(actor(), {k: v for k, v in chosen.items() if v})
    except InvalidData as exc:
        errors = {name: localized(text) for name, text in exc.fields.items()}
    return render_template("pages/kpi.html", report=report, chosen=chosen, errors=errors, processes=processes(),
                           measure_name=measure_name, group_label=group_label, percent=percent, number=number,
                           hours=hours, bars=bars, distribution_bars=distribution_bars, dimensions=dimensions(),
                           money=money, signed_percent=signed_percent, growth_bars=growth_bars,
                           labelled_bars=labelled_bars)


@blueprint.context_processor
def _kpi_nav() -> dict:
    """`may_kpi()` for the main navigation: the engine says who may open the dashboard."""
    return {"may_kpi": lambda: bool(header("kpi"))}
