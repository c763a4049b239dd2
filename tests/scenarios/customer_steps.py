"""Steps shared by the customer tests: register a prospect and have the sales manager review it."""

from __future__ import annotations

from engine import Engine
from tests.scenarios.driver import do

KEY = "customer_register"
STRATEGY = "每月拜访一次，重点推介 P·O 42.5 散装，争取年度框架协议"


def registration(name: str = "芜湖嘉和建材有限公司") -> dict:
    return {"customer_name": name, "customer_class": "local", "contact_person": "赵经理",
            "contact_phone": "0553-5551234", "address": "安徽省芜湖市弋江区中山南路 88 号",
            "needs": "年需求约 3000 吨散装水泥", "source": "own_development"}


def accepted(owner: str | None = None, strategy: str = STRATEGY) -> dict:
    return {"approved": True, "follow_up_strategy": strategy, **({"owner": owner} if owner else {})}


def register(eng: Engine, rep: str, name: str, manager: str = "mgr1", owner: str | None = None) -> int:
    """The rep registers the prospect and the manager accepts it; the customer's id."""
    iid = eng.start(rep, KEY, registration(name))
    do(eng, manager, "review_customer", accepted(owner), iid)
    [customer] = [c for c in eng.customers("aud", name=name) if c["name"] == name]
    return customer["id"]
