"""The page walk (issue 13, done-when): every page, as every demo role, in Chinese, shows no untranslated
English word and no raw variable or element id.

The demo database (tests/web/walk_demo.py) has instances of every process in several states. The pages
are the GET routes of the app's url_map, filled with real ids: each person's tasks and the instances they
may see (the auditor sees them all), every process and version, every user. A page's visible text is its
text nodes and the attributes people read (title, placeholder, aria-label, alt, button values), without
scripts, styles and anything marked lang="en" (the language switch). The failure lists page, role and
the offending words.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import quote

import pytest
import yaml
from lxml import etree, html
from werkzeug.exceptions import HTTPException

from engine.definitions.lint import assigned_names
from engine.errors import SalesflowError
from tests.conftest import ROOT
from tests.web.conftest import Pages
from tests.web.walk_demo import AUDITOR, Demo, build
from webui.app import create_app

# words that are not English prose: product and format names, units
ALLOWED = {"salesflow", "bpmn", "dmn", "api", "csv", "json", "yaml", "iso", "kpi", "sha", "utc", "url", "id",
           "kg", "mpa", "mm", "cm", "km", "t", "pdf", "xml", "svg", "png", "http", "https", "camunda",
           "spiffworkflow", "bpmnlint", "asia", "shanghai",
           "formkey",  # camunda:formKey: the attribute a process owner sets in the modeler
           "rest"}  # as in "REST API"
BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA_NS = "{http://camunda.org/schema/1.0/bpmn}"
DMN_OUTPUT = re.compile(r'<(?:dmn:)?output\b[^>]*\bname="([^"]+)"')
TOKEN = re.compile(r"[A-Za-z0-9_]+")
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "label")
NOT_PAGES = ("json", "csv")  # endpoints that answer data, not a page


# -- what must never show: the diagrams' ids and data names, the forms' codes ------------------------------
def raw_names() -> set[str]:
    names: set[str] = set()
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        tree = etree.parse(str(path))
        for node in tree.iter():
            if not isinstance(node.tag, str) or node.tag.startswith("{http://www.omg.org/spec/BPMN/20100524/DI}"):
                continue
            if node.get("id") and not node.get("id").endswith("_di"):
                names.add(node.get("id"))
            for attr in ("resultVariable", "elementVariable", "formKey", "calledElement", "decisionRef"):
                if node.get(CAMUNDA_NS + attr):
                    names.add(node.get(CAMUNDA_NS + attr))
            if node.tag == BPMN_NS + "script":
                names |= assigned_names(node.text or "")
            if node.tag == BPMN_NS + "message" and node.get("name"):
                names.add(node.get("name"))
    for path in sorted((ROOT / "processes").glob("*.dmn")):
        text = path.read_text(encoding="utf-8")
        names |= set(DMN_OUTPUT.findall(text)) | set(re.findall(r'\bid="([^"]+)"', text))
    for path in sorted((ROOT / "forms").glob("*.yaml")):
        form = yaml.safe_load(path.read_text(encoding="utf-8"))
        names.add(form["key"])
        names |= _schema_names(form.get("schema") or {})
    names |= set(yaml.safe_load((ROOT / "processes" / "roles.yaml").read_text(encoding="utf-8")).get("roles", {}))
    return {n for n in names if isinstance(n, str) and TOKEN.fullmatch(n) and not n.isdigit()}


def _schema_names(schema: dict) -> set[str]:
    """Every property name and enum code anywhere in a JSON Schema (nested objects, items, if/then)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        found |= set((schema.get("properties") or {}).keys())
        found |= {v for v in schema.get("enum") or [] if isinstance(v, str)}
        if isinstance(schema.get("const"), str):
            found.add(schema["const"])
        for value in schema.values():
            if isinstance(value, dict):
                found |= _schema_names(value)
            elif isinstance(value, list):
                for item in value:
                    found |= _schema_names(item)
    return found


def data_words(demo: Demo, raw: set[str]) -> set[str]:
    """Words people typed into the demo cases (customer names, products, waybill numbers): data, not the
    interface. Codes the forms define (enum values) are not data words: they must be shown by their label."""
    words: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            words.update(t.lower() for t in TOKEN.findall(value) if t not in raw)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for ids in demo.instances.values():
        for iid in ids:
            instance = demo.engine.instance(AUDITOR, iid)
            walk([instance["data"], instance.get("business_key") or ""])
    for process in demo.engine.processes():
        walk([v["note"] for v in demo.engine.versions("system", process["key"])])
    for row in demo.engine.prices(AUDITOR):
        walk({k: v for k, v in row.items() if k in ("product", "spec", "grade", "unit", "source")})
    return words


# -- what a page shows ---------------------------------------------------------------------------------------
def visible_text(page: str, login_ids: set[str]) -> str:
    doc = html.fromstring(page)
    # English on purpose (lang="en": the language switch) and identifiers on purpose (translate="no": the
    # lane ids a modeller types, a login id beside its display name) are not the interface's words
    skipped = "//script|//style|//template|//*[@hidden]|//body//*[starts-with(@lang, 'en')]|//*[@translate='no']"
    for node in doc.xpath(skipped):
        node.drop_tree()
    parts = list(doc.itertext())
    for attr in READ_ATTRIBUTES:
        for value in doc.xpath(f"//@{attr}"):
            if attr == "title" and value in login_ids:
                continue  # a person's login id in the tooltip beside their display name is intended
            parts.append(value)
    parts += doc.xpath("//input[@type='submit' or @type='button']/@value")
    return " ".join(parts)


def offending(text: str, raw: set[str], allowed: set[str]) -> tuple[set[str], set[str]]:
    """(raw ids, English words) in a page's visible text."""
    ids, english = set(), set()
    for token in TOKEN.findall(text):
        if token in raw:
            ids.add(token)
        elif any(c.isdigit() for c in token) or len(token) < 2:
            continue  # codes and numbers (waybill SF1234567890, hashes, dates)
        elif token.lower() not in allowed:
            english.add(token)
    return ids, english


# -- the pages -----------------------------------------------------------------------------------------------
def page_rules(app) -> list:
    return sorted((r for r in app.url_map.iter_rules()
                   if r.endpoint.startswith("pages.") and "GET" in r.methods
                   and not any(r.rule.endswith(ext) or f"{ext}" in r.rule.rsplit(".", 1)[-1] for ext in NOT_PAGES)),
                  key=lambda r: r.rule)


def urls_for(app, demo: Demo, user: str) -> list[str]:
    """Every page rule, filled with real ids this person meets (and one they may not open): their tasks,
    instances they may see (the auditor: every instance), the processes they may start or model."""
    engine = demo.engine
    roles = demo.people[user]
    try:
        visible = [i["id"] for i in engine.search(user, {}, per_page=100)["items"]]
    except SalesflowError:  # someone the search is not for
        visible = []
    every = sorted(set().union(*demo.instances.values()))
    if user != AUDITOR:  # one case of theirs, one they may not see: the auditor opens every one
        visible = visible[len(user) % len(visible):][:1] if visible else []
        visible += [i for i in every if i not in visible][-1:]
    keys = [p["key"] for p in engine.processes()]
    startable = [p["key"] for p in engine.startable(user)]
    owner = bool({"process_owner", "admin"} & set(roles))
    versions = [(p["key"], p["version"]) for p in engine.processes()]
    values = {
        "instance_id": visible, "task_id": [t["id"] for t in engine.inbox(user)][:3], "username": [user, AUDITOR],
        "customer_id": [c["id"] for c in engine.customers(AUDITOR)][:2],
        "key": (keys if owner else [*startable, *[k for k in keys if k not in startable][:1]]),
    }
    urls = ["/inbox?role=" + quote(r) for r in roles] + [f"/instances?started_by={quote(user)}"]
    for rule in page_rules(app):
        args = sorted(rule.arguments)
        if not args:
            urls.append(rule.rule)
        elif args == ["key", "version"]:
            urls += [rule.rule.replace("<key>", k).replace("<id:version>", str(v))
                     for k, v in (versions if owner else versions[:1])]
        else:
            [arg] = args
            for value in values[arg]:
                urls.append(re.sub(r"<[^>]*>", str(value), rule.rule))
    # each address once: for the auditor `username` is [user, AUDITOR], the same page twice
    return list(dict.fromkeys(urls))


@pytest.fixture
def demo(engine) -> Demo:
    return build(engine)


@pytest.fixture
def walk_app(demo):  # the app on the demo database (not tests/web's `app`, which has its own people)
    return create_app(demo.engine, {"TESTING": True, "SECRET_KEY": "test-secret"})


def test_every_page_as_every_demo_role_is_in_chinese_without_raw_names(walk_app, demo):
    app = walk_app
    every_process = {p["key"] for p in demo.engine.processes()}
    assert {k for k, ids in demo.instances.items() if ids} == every_process, demo.skipped
    raw = raw_names()
    allowed = ALLOWED | data_words(demo, raw)
    login_ids = set(demo.people)
    findings: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    visited_rules: set[str] = set()
    visitors, seen_roles = [None], set()
    for user in demo.demo_users():  # one person per set of roles (sales_rep2 is a second sales_rep)
        if frozenset(demo.people[user]) not in seen_roles:
            seen_roles.add(frozenset(demo.people[user]))
            visitors.append(user)
    adapter = app.url_map.bind("localhost")
    for user in visitors:
        client = Pages(app)
        if user is None:
            urls = ["/login", "/", "/no-such-page"]
        else:
            client.login(user)
            urls = urls_for(app, demo, user)
        for url in urls:
            response = client.get(url)
            with contextlib.suppress(HTTPException):  # an unknown address, visited on purpose (the 404 page)
                visited_rules.add(adapter.match(url.split("?")[0])[0])
            if response.status_code in (301, 302, 303) or not response.content_type.startswith("text/html"):
                continue
            ids, english = offending(visible_text(response.get_data(as_text=True), login_ids), raw, allowed)
            if ids or english:
                findings[(url, user or "(not logged in)")] = (ids, english)
    expected = {r.endpoint for r in page_rules(app)}
    assert expected - visited_rules == set(), "pages the walk never reached"
    report = "\n".join(
        f"{url}  as {user}:" + (f"  raw ids {sorted(ids)}" if ids else "") + (f"  English {sorted(en)}" if en else "")
        for (url, user), (ids, en) in sorted(findings.items()))
    assert not findings, f"{len(findings)} page(s) show English words or raw ids in Chinese:\n{report}"
