"""DMN input entries: values, comparisons and `?` tests run as checked; a bare `in` test is refused."""

import pytest

from engine.definitions.bundle import SourceFile
from engine.errors import DefinitionError
from tests.conftest import ROOT, add_users

FILES = ["sample_request.bpmn", "sample_routing.dmn"]


def bundle(dmn_text: str) -> list[SourceFile]:
    files = [SourceFile(name, "bpmn" if name.endswith(".bpmn") else "dmn",
                        dmn_text.encode() if name.endswith(".dmn") else (ROOT / "processes" / name).read_bytes())
             for name in FILES]
    files += [SourceFile(p.name, "form", p.read_bytes()) for p in sorted((ROOT / "forms").glob("sample_request_*"))]
    return files


def routed_to(engine, dmn_text: str, customer_class: str) -> str:
    engine.deploy("system", files=bundle(dmn_text))
    add_users(engine, {"rep": ["sales_rep"]})
    iid = engine.start("rep", "sample_request", {
        "customer_name": "ACME", "customer_class": customer_class, "product": "P.O 42.5", "spec": "50kg",
        "quantity": 10, "purpose": "market_development", "delivery_address": "芜湖", "wanted_by": "2026-03-20"})
    return engine.instance("rep", iid)["data"]["sample_route"]


ORIGINAL = (ROOT / "processes" / "sample_routing.dmn").read_text(encoding="utf-8")


def test_a_question_mark_test_routes_like_the_value_it_replaces(engine):
    assert '<text>"key_account"</text>\n        </inputEntry>' in ORIGINAL
    text = ORIGINAL.replace('<text>"key_account"</text>\n        </inputEntry>',
                            '<text>? in ("key_account", "vip")</text>\n        </inputEntry>', 1)
    assert routed_to(engine, text, "key_account") == "key_account"


def test_a_bare_in_test_is_refused_with_the_fix(engine):
    text = ORIGINAL.replace('<text>"key_account"</text>\n        </inputEntry>',
                            '<text>in ("key_account", "vip")</text>\n        </inputEntry>', 1)
    with pytest.raises(DefinitionError) as refused:
        engine.deploy("system", files=bundle(text))
    [problem] = refused.value.problems
    assert problem.file == "sample_routing.dmn" and problem.element == "sample_routing_rule_key_account_in"
    assert '? in ("key_account", "vip")' in problem.message and problem.line
