"""DMN 1.1 and 1.2 files (Camunda Modeler before 4.0, many public examples) are checked and versioned
exactly like DMN 1.3: the same entry is refused in each, and editing one makes a new version."""

from __future__ import annotations

import re

import pytest

from engine.definitions.bundle import SourceFile
from engine.errors import DefinitionError
from tests.conftest import ROOT, add_users

DMN_13 = (ROOT / "processes" / "sample_routing.dmn").read_text(encoding="utf-8")
NAMESPACES = {
    "1.1": "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "1.2": "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "1.3": "https://www.omg.org/spec/DMN/20191111/MODEL/",
}
ENTRY = '<text>"key_account"</text>\n        </inputEntry>'
START = {"customer_name": "ACME", "customer_class": "key_account", "product": "P.O 42.5", "spec": "50kg",
         "quantity": 10, "purpose": "market_development", "delivery_address": "芜湖", "wanted_by": "2026-03-20"}


def dmn(version: str, entry: str | None = None) -> str:
    """sample_routing.dmn written as DMN `version` (without the 1.3 diagram part, which 1.1 has not),
    its key_account input entry replaced by `entry` when given."""
    text = DMN_13.replace(f'xmlns="{NAMESPACES["1.3"]}"', f'xmlns="{NAMESPACES[version]}"', 1)
    text = re.sub(r"\s*<dmndi:DMNDI>.*</dmndi:DMNDI>", "", text, flags=re.S)
    assert NAMESPACES[version] in text and ENTRY in text
    return text.replace(ENTRY, ENTRY.replace('"key_account"', entry), 1) if entry else text


def bundle(dmn_text: str) -> list[SourceFile]:
    files = [SourceFile("sample_request.bpmn", "bpmn", (ROOT / "processes" / "sample_request.bpmn").read_bytes()),
             SourceFile("sample_routing.dmn", "dmn", dmn_text.encode())]
    return files + [SourceFile(p.name, "form", p.read_bytes())
                    for p in sorted((ROOT / "forms").glob("sample_request_*"))]


@pytest.mark.parametrize("version", ["1.1", "1.2", "1.3"])
def test_an_entry_that_does_not_compile_is_refused_in_every_dmn_version(engine, version):
    with pytest.raises(DefinitionError) as refused:
        engine.deploy("system", files=bundle(dmn(version, "= 1")))
    [problem] = refused.value.problems
    assert (problem.file, problem.element) == ("sample_routing.dmn", "sample_routing_rule_key_account_in")
    assert problem.message.startswith("DMN inputEntry does not compile")
    text = dmn(version)
    assert problem.line == text[: text.index('<inputEntry id="sample_routing_rule_key_account_in"')].count("\n") + 1


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_an_older_dmn_routes_like_its_dmn_13_twin(engine, version):
    engine.deploy("system", files=bundle(dmn(version)))
    add_users(engine, {"rep": ["sales_rep"]})
    iid = engine.start("rep", "sample_request", START)
    assert engine.instance("rep", iid)["data"]["sample_route"] == "key_account"


def test_editing_a_dmn_11_file_makes_version_2(engine):
    [first] = engine.deploy("system", files=bundle(dmn("1.1")))
    assert (first.version, first.status) == (1, "deployed")
    edited = dmn("1.1").replace('<outputEntry id="sample_routing_rule_key_account_out">\n          '
                                '<text>"key_account"</text>',
                                '<outputEntry id="sample_routing_rule_key_account_out">\n          '
                                '<text>"local"</text>', 1)
    assert edited != dmn("1.1")
    [second] = engine.deploy("system", files=bundle(edited))
    assert (second.key, second.version, second.status) == ("sample_request", 2, "deployed")
    [again] = engine.deploy("system", files=bundle(edited))
    assert (again.version, again.status) == (2, "unchanged")
