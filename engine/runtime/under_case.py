"""Processes started by hand under an existing case: the process properties `start_under` and `inherit`.

A dealer's repeat order (processes/dealer_order.bpmn) is placed under the contract the dealer already
has. Its process declares `start_under="insale contract_effective"`: a start by hand must give the
business key of a case of `insale` that the starter may see, whose data holds `contract_effective`
true, and that did not end with a negative outcome (a withdrawn contract, an order cancelled unpaid, a
cancelled case). `inherit` lists the names copied from that case's data into the new instance's start
data, so that what the case settled (the customer, the contract's products and prices) is taken from
it, never typed again; the start form cannot ask for an inherited name (checked when deploying).

A business key that names no such case is refused with one message on the business key field, the
same whether the case is missing, not effective or hidden from the starter, so that the answer tells
an outsider nothing about other people's cases.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import outcomes
from engine.definitions.current import current_version
from engine.definitions.model import ProcessModel
from engine.errors import InvalidData
from engine.runtime import access
from engine.store.models import Instance
from engine.users import Person


def no_case(session: Session, process: str, flag: str) -> InvalidData:
    pv = current_version(session, process)
    zh = pv.name if pv is not None else process
    en = (json.loads(pv.model_json).get(process) or {}).get("name_en") or zh if pv is not None else process
    return InvalidData(f"the business key must name a case of {process} in which {flag} holds, that you take part in",
                       {"business_key": {"zh": f"业务编号须为您参与的、仍然有效的“{zh}”案卷的编号",
                                         "en": f"Give the business key of a case of “{en}” that is in force "
                                               f"and that you take part in"}})


def inherit(session: Session, user: Person, model: ProcessModel, business_key: str | None,
            data: dict) -> tuple[dict, int | None]:
    """(the start data with the inherited names added, the id of the case it was taken from), or the
    data unchanged and None for a process that is not started under a case."""
    if not model.start_under:
        return data, None
    typed = sorted(set(data) & set(model.inherit))
    if typed:  # without a start form nothing else stops it: a typed value never stands in for the case's
        raise InvalidData(f"{', '.join(typed)}: taken from the case the process is started under, not given",
                          {name: {"zh": "此项取自所依据的案卷（如合同），不能填写",
                                  "en": "Taken from the case this is started under (such as the contract); "
                                        "it cannot be given"} for name in typed})
    process, flag = model.start_under.split()
    case = _case(session, user, process, flag, business_key) if business_key else None
    if case is None:
        raise no_case(session, process, flag)
    found = json.loads(case.data_json or "{}")
    return {**data, **{name: found[name] for name in model.inherit if name in found}}, case.id


def _case(session: Session, user: Person, process: str, flag: str, business_key: str) -> Instance | None:
    """The newest qualifying case under this business key (several cases of one process may share it)."""
    negative = outcomes.of_kind("negative")
    rows = session.scalars(select(Instance).where(Instance.process_key == process,
                                                  Instance.business_key == business_key,
                                                  Instance.rev > 0).order_by(Instance.id.desc()))
    for case in rows:
        if case.outcome in negative or json.loads(case.data_json or "{}").get(flag) is not True:
            continue
        if access.may_see_instance(session, user, case):
            return case
    return None
