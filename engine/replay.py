"""Replay: rebuild an instance from its definition version and its recorded commands.

Each command event (started, completed, timers_due, message, cancelled, migrated, and
retried, which repeats one of the first four after an incident) is executed again at the
instant it was recorded, by the same functions the runtime uses; the state digest it recorded
must match, and the events it caused (task ready, gateway taken, timer fired, ...) must come
out the same. An `incident` event changed nothing (the failed step was rolled back): it is
not replayed.
Task ids are random per run, so recorded ids are mapped to replayed ones as
`task_ready` events pair up. A `migrated` event moves the replayed workflow to the
version it names (specs from `loader(version_id)`) by the function the runtime used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from engine import clock
from engine.definitions.serializer import SERIALIZER_VERSION
from engine.errors import SalesflowError
from engine.process import observe, workflow
from engine.process.specs import SpecSet

COMMANDS = ("started", "completed", "timers_due", "message", "cancelled", "migrated", "retried")
DERIVED = ("task_ready", "gateway_taken", "timer_fired", "escalated", "task_cancelled", "ended", "message_sent")
# where a message went depends on other instances, not on this one: not replayed
_ROUTING = ("task_id", "business_key", "delivered", "started", "halted")


@dataclass
class Mismatch:
    position: int
    kind: str
    reason: str
    expected: object = None
    actual: object = None

    def to_dict(self) -> dict:
        return {"position": self.position, "kind": self.kind, "reason": self.reason,
                "expected": self.expected, "actual": self.actual}


@dataclass
class Replay:
    verified: bool
    steps: int
    first_mismatch: Mismatch | None = None
    state: dict | None = None  # the state after the requested step
    states: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"verified": self.verified, "steps": self.steps,
                "first_mismatch": self.first_mismatch.to_dict() if self.first_mismatch else None,
                "state": self.state, **({"states": self.states} if self.states else {})}


def _strip(payload: dict) -> dict:
    return {k: v for k, v in payload.items() if k not in _ROUTING}


def state_of(wf, position: int, event: dict, view: dict | None = None) -> dict:  # noqa: ANN001
    """The state after the event; `view`, when given, is `view_of(wf)` already computed."""
    if wf is None:
        return {"position": position, "kind": event["kind"], "completed": [], "active": [], "data": {}}
    return {"position": position, "kind": event["kind"], "task": event["task"], "at": event["at"],
            "actor": event["actor"], **(view or view_of(wf))}


def view_of(wf) -> dict:  # noqa: ANN001
    """What the history page draws of the workflow: elements that ran and wait, finished, the data."""
    done, active = observe.highlights(wf)
    return {"completed": done, "active": active, "finished": wf.is_completed(), "data": observe.instance_data(wf)}


class _Runner:
    def __init__(self, specs: SpecSet, started_by: str, loader: Callable[[int], SpecSet] | None = None) -> None:
        self.specs, self.started_by, self.loader = specs, started_by, loader
        self.wf = None
        self.ids: dict[str, str] = {}
        self.expected: list[observe.Derived] = []

    def command(self, ev: dict, payload: dict) -> Mismatch | None:
        if self.expected:
            d = self.expected[0]
            return Mismatch(ev["position"], ev["kind"], "the trail lacks an event the replay produced",
                            None, {"kind": d.kind, "task": d.task, "payload": d.payload})
        before = observe.snapshot(self.wf)
        with clock.using(clock.ManualClock(_parse(ev["at"]))):
            try:
                self._apply(ev["kind"], payload)
                if self.wf is None:  # cancelled before it ever started (its first step failed): no state
                    return None if "digest" not in payload else Mismatch(
                        ev["position"], ev["kind"], "the trail has a state where the replay has none")
                # the runtime saves and reloads between commands; so does replay
                self.wf = workflow.load(self.specs, workflow.dump(self.wf), SERIALIZER_VERSION)
            except (SalesflowError, KeyError) as exc:
                return Mismatch(ev["position"], ev["kind"], f"the command failed on replay: {exc}")
            self.expected = observe.derive(self.specs, self.wf, before, self.started_by)
            self.expected += [observe.Derived("message_sent", None, {"name": n, "payload": p})
                              for n, p in workflow.take_messages(self.wf)]
            actual = observe.digest(self.wf)
        if payload.get("digest") != actual:
            return Mismatch(ev["position"], ev["kind"], "the state after this step differs",
                            payload.get("digest"), actual)
        return None

    def _apply(self, kind: str, payload: dict) -> None:
        if kind == "retried":  # an administrator's retry after an incident runs the step that had failed
            kind = payload["step"]
            if kind == "started" and self.loader is not None and payload.get("version_id") is not None:
                self.specs = self.loader(payload["version_id"])  # a retried start runs the version it names
        if self.wf is None and kind == "cancelled":
            return
        if kind == "started":
            self.wf = workflow.start(self.specs, dict(payload["data"]))
        elif kind == "completed":
            workflow.complete(self.wf, self.ids[payload["task_id"]], dict(payload["data"]))
        elif kind == "timers_due":
            workflow.fire_timers(self.wf)
        elif kind == "message" and not payload.get("dropped"):
            workflow.send_message(self.wf, payload["name"], dict(payload["payload"]))
        elif kind == "cancelled":
            workflow.cancel(self.wf)
        elif kind == "migrated":
            if self.loader is None:
                raise SalesflowError("this replay cannot load other versions")
            self.specs = self.loader(payload["to_version_id"])
            workflow.migrate(self.wf, self.specs)

    def derived(self, ev: dict, payload: dict) -> Mismatch | None:
        if not self.expected:
            return Mismatch(ev["position"], ev["kind"], "the replay did not produce this event",
                            {"kind": ev["kind"], "task": ev["task"], "payload": payload}, None)
        d = self.expected.pop(0)
        recorded = {"kind": ev["kind"], "task": ev["task"], "payload": _strip(payload)}
        replayed = {"kind": d.kind, "task": d.task, "payload": d.payload}
        if recorded != replayed:
            return Mismatch(ev["position"], ev["kind"], "the replay produced a different event", recorded, replayed)
        if d.task_id and "task_id" in payload:
            self.ids[payload["task_id"]] = d.task_id
        return None


def _parse(at: str):  # noqa: ANN202
    from datetime import datetime

    return datetime.fromisoformat(at)


def first_version_id(events: list[dict], current: int) -> int:
    """The version an instance started on: before its first `migrated` event, else its current one."""
    for ev in events:
        if ev["kind"] == "migrated":
            payload = json.loads(ev["payload"]) if isinstance(ev["payload"], str) else ev["payload"]
            return payload["from_version_id"]
    return current


def replay(specs: SpecSet, started_by: str, events: list[dict], step: int | None = None,
           loader: Callable[[int], SpecSet] | None = None, states: bool = False) -> Replay:
    """Replay the events (dicts with position, at, actor, kind, task, payload) from the specs the
    instance started on; `loader(version_id)` gives the specs a `migrated` event moves to. With
    `step`, also return the state after event number `step`; with `states`, the state after each
    event that replayed (up to the first mismatch) in `Replay.states`."""
    runner = _Runner(specs, started_by, loader)
    wanted = None
    collected: list[dict] = []
    # Only a command changes the workflow (it is reloaded: a new object), so the events it caused share its
    # view, computed once: the states of one command's events share their lists and data, not to be changed.
    view, viewed = None, None
    for ev in events:
        payload = json.loads(ev["payload"]) if isinstance(ev["payload"], str) else ev["payload"]
        mismatch = None
        if ev["kind"] in COMMANDS:
            mismatch = runner.command(ev, payload)
        elif ev["kind"] in DERIVED:
            mismatch = runner.derived(ev, payload)
        if mismatch:
            return Replay(False, ev["position"], mismatch, wanted, collected)
        if step is not None and ev["position"] == step:
            wanted = state_of(runner.wf, ev["position"], ev)
        if states:
            if runner.wf is not None and viewed is not runner.wf:
                view, viewed = view_of(runner.wf), runner.wf
            collected.append(wanted if wanted and wanted["position"] == ev["position"]
                             else state_of(runner.wf, ev["position"], ev, view))
    if runner.expected:
        d = runner.expected[0]
        last = events[-1]["position"] if events else 0
        return Replay(False, last, Mismatch(last + 1, d.kind, "the trail ends before an event the replay produced",
                                            None, {"kind": d.kind, "task": d.task}), wanted, collected)
    return Replay(True, len(events), None, wanted, collected)
