"""The complaint register, from the decision log: one row per case that entered the
formal complaint procedure, as regulators ask operators to keep it.

    case_id            the case
    date_received      when the first decision put the case into the complaint procedure
                       (its evaluation instant, else the moment it was logged)
    date_acknowledged  the first later decision on a case update sent by the complaints
                       tier itself (handled_by = that tier): the complaints team has it
    acknowledge_due    that first complaint decision's deadlines.acknowledge_by
    final_answer_due   its deadlines.resolve_by
    handler            the handler of the latest decision
    outcome            attributes.outcome of the latest case when the operator sets one,
                       else its status (open, escalated, complaint, closed)
    adr_referral       attributes.adr_referral of the latest case (the ADR body or date), else empty

Operator facts the case model has no field for (outcome, ADR referral) come from the
case's `attributes`, where support software puts operator-specific data.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from escalator.log.record import LogRecord

COLUMNS = ("case_id", "date_received", "date_acknowledged", "acknowledge_due", "final_answer_due",
           "handler", "outcome", "adr_referral")


@dataclass
class _Complaint:
    case_id: str
    received: str
    complaints_tier: str
    acknowledge_due: str | None
    final_answer_due: str | None
    acknowledged: str | None = None
    handler: str = ""
    outcome: str = ""
    adr: str = ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def complaints(rows: Iterable[LogRecord]) -> list[dict[str, str]]:
    """The register, in the order complaints were received."""
    register: dict[str, _Complaint] = {}
    for row in rows:
        decision = json.loads(row.decision_json)
        case = json.loads(row.case_json)
        instant = row.at or row.logged_at
        entry = register.get(row.case_id)
        if entry is None:
            if decision.get("procedure") != "complaint":
                continue
            deadlines = decision.get("deadlines") or {}
            entry = register[row.case_id] = _Complaint(
                row.case_id, instant, decision["handler"], deadlines.get("acknowledge_by"),
                deadlines.get("resolve_by"))
        elif entry.acknowledged is None and case.get("handled_by") == entry.complaints_tier:
            entry.acknowledged = instant
        attributes = case.get("attributes") or {}
        entry.handler = decision["handler"]
        entry.outcome = _text(attributes.get("outcome", case.get("status")))
        entry.adr = _text(attributes.get("adr_referral"))
    return [
        {"case_id": c.case_id, "date_received": c.received, "date_acknowledged": c.acknowledged or "",
         "acknowledge_due": c.acknowledge_due or "", "final_answer_due": c.final_answer_due or "",
         "handler": c.handler, "outcome": c.outcome, "adr_referral": c.adr}
        for c in register.values()
    ]


def write_csv(register: list[dict[str, str]], out: IO[str]) -> None:
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(register)
