"""The history page's timeline: each audit event told for a reader.

A pure function of the events `Engine.history` returns (no database): who acted, in which role,
what data changed (old -> new), which gateway branch was taken and on which condition, and what
escalations, comments and messages said. Roles and task titles are not stored on every event,
only on the `task_ready` event that offered the task; they are carried forward from there.

Given the labels of the version each event ran on (engine.definitions.labels), every element is
told by that version's name ({zh, en}; an unnamed one by its kind in words), a branch by its flow's
name, and the data changed by the labels of the form that changed it, in that form's order; data
names nothing labels are left out. Without them (a bare trail), ids and names stay as recorded.
"""

from __future__ import annotations

from typing import Any

from engine.definitions.checks import INITIATOR
from engine.definitions.labels import VersionLabels
from engine.users import SYSTEM

COMMANDS = ("started", "completed", "timers_due", "message", "cancelled", "migrated", "retried")
# events about one task, done by a person acting in that task's role
TASK_EVENTS = ("claimed", "unclaimed", "reassigned", "completed", "commented")


class _Offers:
    """The role and title each task was offered with, by task id and by diagram element."""

    def __init__(self, events: list[dict]) -> None:
        self.by_task: dict[str, dict] = {}
        self.by_element: dict[str, dict] = {}
        # every element's title, for naming a gateway's target before that task is offered
        self.titles = {e["task"]: e["payload"].get("title") for e in reversed(events)
                       if e["kind"] == "task_ready" and e["task"]}

    def offered(self, event: dict) -> None:
        payload = event["payload"]
        offer = {"role": payload.get("role"), "title": payload.get("title")}
        if payload.get("task_id"):
            self.by_task[payload["task_id"]] = offer
        if event["task"]:
            self.by_element[event["task"]] = offer

    def migrated(self, payload: dict) -> None:
        """A migration may move an open task to another lane: {task id: [old role, new role]}."""
        for task_id, (_old, new) in (payload.get("lanes") or {}).items():
            self.by_task.setdefault(task_id, {"role": None, "title": None})["role"] = new

    def routed(self, payload: dict) -> None:
        """A task of the customer_owner lane sent on to the customer's owner or the sales representatives."""
        if payload.get("task_id"):
            self.by_task.setdefault(payload["task_id"], {"role": None, "title": None})["role"] = payload.get("role")

    def of(self, event: dict) -> dict:
        task_id = event["payload"].get("task_id")
        if task_id and task_id in self.by_task:
            return self.by_task[task_id]
        return self.by_element.get(event["task"] or "", {})

    def title(self, element: str | None) -> str | None:
        return self.titles.get(element or "")


def _changes(event: dict, labels: VersionLabels | None) -> list[dict]:
    """old -> new per field: with labels, the labelled fields only, in the order of the form that
    changed them (the task's, or the start form), then in the order of the version's forms."""
    changed = event["payload"].get("changes") or {}
    if labels is None:
        return [{"field": field, "old": pair[0], "new": pair[1]} for field, pair in sorted(changed.items())]
    form = labels.forms.get(labels.start_form or "", {}) if event["kind"] == "started" else {}
    if event["kind"] == "completed":
        form = labels.form_fields(event["task"])
    fields = {**form, **{name: ui for name, ui in labels.fields.items() if name not in form}}
    return [{"field": name, "old": changed[name][0], "new": changed[name][1], "label": ui["label"], "ui": ui}
            for name, ui in fields.items() if name in changed]


def _shown(values: dict, labels: VersionLabels | None) -> list[dict]:
    """A message's payload as {field, label, ui, value}, labelled names only, in the forms' order."""
    if labels is None:
        return [{"field": k, "label": None, "ui": None, "value": v} for k, v in sorted(values.items())]
    return [{"field": name, "label": ui["label"], "ui": ui, "value": values[name]}
            for name, ui in labels.fields.items() if name in values]


def _task_event_role(event: dict, offers: _Offers, holders: dict[str, str | None], starter: str | None) -> str | None:
    """Claiming and completing are done in the task's role; releasing or commenting only by whoever
    holds the task (else by a manager, or the requester, or another participant: no task role);
    reassigning always by a manager, whose role the trail does not record."""
    kind, payload, actor = event["kind"], event["payload"], event["actor"]
    task_id = payload.get("task_id")
    held_by = holders.get(task_id)
    task_role = offers.of(event).get("role")
    if kind in ("claimed", "reassigned"):
        holders[task_id] = actor if kind == "claimed" else payload.get("to")
    elif kind == "unclaimed":
        holders[task_id] = None
    if kind in ("claimed", "completed") or (kind in ("unclaimed", "commented") and actor == held_by):
        return task_role
    if kind == "commented" and actor == starter:
        return INITIATOR
    return None


def _command_role(event: dict, offers: _Offers, starter: str | None) -> str | None:
    if event["actor"] == SYSTEM:
        return SYSTEM
    if event["kind"] == "started":
        return INITIATOR
    if event["kind"] == "completed":
        return offers.of(event).get("role")
    if event["actor"] == starter:
        return INITIATOR
    return None  # an administrator's cancel or migration: no task role applies


def _title(element: str | None, offers: _Offers, labels: VersionLabels | None) -> dict | str | None:
    """An element as people name it: the version's {zh, en} name (or kind in words), else the trail's."""
    if labels is not None and element:
        return labels.element(element) or offers.title(element)
    return offers.title(element)


def _branches(event: dict, offers: _Offers, labels: VersionLabels | None) -> list[dict]:
    """The branches taken: the target, the flow's name (the condition as people read it) and the
    condition's code (for an export; pages show the flow's name)."""
    payload = event["payload"]
    conditions = payload.get("conditions") or {}
    result = []
    for target in payload.get("taken") or []:
        condition = conditions.get(target)
        result.append({"target": target, "title": _title(target, offers, labels),
                       "flow": labels.flow(event["task"], target) if labels is not None else None,
                       "condition": None if condition in (None, "default") else condition,
                       "default": condition == "default"})
    return result


def _details(event: dict, offers: _Offers, labels: VersionLabels | None) -> dict[str, Any]:
    """What the reader needs beyond who/when/what changed, per kind of event."""
    kind, payload = event["kind"], event["payload"]
    if kind == "gateway_taken":
        return {"branches": _branches(event, offers, labels)}
    if kind == "escalated":
        return {"escalation": {"timer": event["task"], "attached_to": payload.get("attached_to"),
                               "attached_title": _title(payload.get("attached_to"), offers, labels),
                               "interrupting": bool(payload.get("interrupting"))}}
    if kind == "commented":
        return {"comment": payload.get("text")}
    if kind in ("message", "message_sent"):
        return {"message": {"name": payload.get("name"), "payload": payload.get("payload") or {},
                            "shown": _shown(payload.get("payload") or {}, labels),
                            "direction": "in" if kind == "message" else "out",
                            "from_instance": payload.get("from_instance")}}
    if kind == "reassigned":
        return {"assignment": {"from": payload.get("from"), "to": payload.get("to")}}
    if kind == "unclaimed":
        return {"assignment": {"from": payload.get("from"), "to": None}}
    if kind == "routed":
        return {"assignment": {"from": None, "to": payload.get("to")}, "offered_to": payload.get("role")}
    if kind == "task_ready":
        return {"offered_to": payload.get("role"), "assignee": payload.get("assignee")}
    if kind == "started":
        return {"business_key": payload.get("business_key"), "version": payload.get("version")}
    if kind == "ended":
        ends = payload.get("end_events") or []
        return {"end_events": ends, "end_titles": [_title(end, offers, labels) for end in ends],
                "success": payload.get("success")}
    if kind == "cancelled":
        return {"reason": payload.get("reason") or ""}
    if kind == "migrated":
        return {"migration": {"from_version": payload.get("from_version"), "to_version": payload.get("to_version")}}
    if kind == "timers_due":
        return {"fired": payload.get("fired") or []}
    if kind == "incident":  # a failed timer or message step halted the instance (or a retry failed again)
        return {"incident": {"id": payload.get("incident_id"), "kind": payload.get("kind"),
                             "message": payload.get("message"), "attempts": payload.get("attempts"),
                             "retry": bool(payload.get("retry"))}}
    if kind == "retried":
        return {"retry": {"incident_id": payload.get("incident_id"), "step": payload.get("step"),
                          "dropped": bool(payload.get("dropped"))}}
    return {}


def build(events: list[dict], labels: list[VersionLabels | None] | None = None) -> list[dict]:
    """One entry per event, in trail order: position, at, actor, role, kind, task, title, changes,
    hash, version and the kind's details (branches, escalation, comment, message, assignment, ...).
    `labels`, one per event: the labels of the version the event ran on (module docstring).

    `role` is the role the actor acted in: a task's role (from the `task_ready` that offered it)
    for work on a task, `initiator` for the requester's start, `system` for timers and system
    messages; derived events (tasks offered, gateways, ends) take the role of the command that
    caused them."""
    offers = _Offers(events)
    holders: dict[str, str | None] = {}  # task id -> who holds it now (claimed or given to them)
    starter = next((e["actor"] for e in events if e["kind"] == "started"), None)
    step_role: str | None = None
    result = []
    for index, event in enumerate(events):
        kind, payload = event["kind"], event["payload"]
        names = labels[index] if labels else None
        if kind == "task_ready":
            offers.offered(event)
        if kind in COMMANDS:
            step_role = _command_role(event, offers, starter)
            role = step_role
        elif kind in TASK_EVENTS:
            role = _task_event_role(event, offers, holders, starter)
        else:
            role = SYSTEM if event["actor"] == SYSTEM else step_role
        if kind == "migrated":
            offers.migrated(payload)
        if kind == "routed":
            offers.routed(payload)
            holders[payload.get("task_id")] = payload.get("to")
        title = offers.of(event).get("title") if event["task"] else None
        if names is not None and event["task"]:
            title = names.element(event["task"]) or title
        result.append({"position": event["position"], "at": event["at"], "actor": event["actor"], "role": role,
                       "kind": kind, "task": event["task"], "title": title or None,
                       "changes": _changes(event, names) if kind in COMMANDS else [],
                       "hash": event.get("hash"), **_details(event, offers, names)})
    return result
