"""The lint's check that a step waits on at most one timer.

SpiffWorkflow 3.2 keeps a timer's deadline on the waiting task (`event_value`), one per task: an event-based
gateway takes the definitions of the catch events after it into one combined definition on its own task, and a
catch event with several definitions holds them on its own. The first timer to be checked sets the deadline and
every other timer of that task reads it, so "remind after 24 h, escalate after 48 h" would do both after 24 h.
Such a diagram is refused with what to do instead, rather than run with every timer at the first one's time.
"""

from __future__ import annotations

from lxml import etree

from engine.definitions.findings import ERROR, Finding
from engine.definitions.model import BPMN
from engine.errors import Problem

_TIMER = f"{{{BPMN}}}timerEventDefinition"
_CATCHES = ("intermediateCatchEvent", "boundaryEvent", "startEvent")


def _timers(node: etree._Element) -> int:
    return len(node.findall(_TIMER))


def _label(node: etree._Element) -> str:
    return node.get("name") or node.get("id")


def one_deadline(tree: etree._ElementTree, filename: str) -> list[Finding]:
    """An event-based gateway followed by more than one timer, or a catch event with more than one timer."""
    return _gateways(tree.getroot(), filename) + _events(tree.getroot(), filename)


def _gateways(root: etree._Element, filename: str) -> list[Finding]:
    by_id = {node.get("id"): node for node in root.iter() if isinstance(node.tag, str) and node.get("id")}
    findings = []
    for gateway in root.iter(f"{{{BPMN}}}eventBasedGateway"):
        targets = [by_id.get(flow.get("targetRef")) for flow in root.iter(f"{{{BPMN}}}sequenceFlow")
                   if flow.get("sourceRef") == gateway.get("id")]
        n, label = sum(_timers(node) for node in targets if node is not None), _label(gateway)
        if n > 1:
            findings.append(Finding(Problem(
                filename, f"event-based gateway {label} waits on {n} timers: the engine keeps one deadline for the "
                f"gateway, so every one of them would fire at the first one's time; keep one timer after the gateway "
                f"and wait for the next one after it", gateway.get("id"), gateway.sourceline,
                f"事件网关「{label}」等待 {n} 个定时器：引擎为网关只保留一个截止时间，"
                f"它们都会在第一个定时器的时间触发；网关后只保留一个定时器，下一个放在它之后等待"), ERROR))
    return findings


def _events(root: etree._Element, filename: str) -> list[Finding]:
    findings = []
    for event in (e for tag in _CATCHES for e in root.iter(f"{{{BPMN}}}{tag}")):
        n, label = _timers(event), _label(event)
        if n > 1:
            findings.append(Finding(Problem(
                filename, f"{label} has {n} timers: the engine keeps one deadline for an event, so every one of them "
                f"would fire at the first one's time; give each timer an event of its own",
                event.get("id"), event.sourceline,
                f"「{label}」有 {n} 个定时器：引擎为一个事件只保留一个截止时间，它们都会在第一个定时器的时间触发；"
                f"请为每个定时器单独设一个事件"), ERROR))
    return findings
