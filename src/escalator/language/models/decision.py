"""The decision: who handles the case, with what authority, and why (spec section 6)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from escalator.language.fastpath import trusted
from escalator.money import format_money


FAILED_RULE = "escalator.evaluation-failed"
"""The reason of a fail-closed decision (runtime.decide.failsafe_decision)."""
FAILED_FLAG = "evaluation_failed"


class PolicyRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    digest: str


class Reason(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    message: str


class Deadlines(BaseModel):
    model_config = ConfigDict(frozen=True)

    acknowledge_by: datetime | None = None
    resolve_by: datetime | None = None
    paused: bool = False
    """The clock stands still: the case is in a status its SLA window pauses in (deadlines are null)."""


def _timestamp(value: datetime | None) -> str | None:
    """`strftime("%Y-%m-%dT%H:%M:%SZ")`: the wall-clock fields (the instants here are UTC) with a Z.
    `isoformat` writes the same first 19 characters, faster, for every four-digit year."""
    if value is None:
        return None
    if value.year >= 1000:
        return value.isoformat()[:19] + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Decision(BaseModel):
    """Everything support software needs to route a case, plus the audit trail."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    policy: PolicyRef
    handler: str
    escalate: bool
    transfer: Literal["live", "callback", "email"]
    procedure: Literal["complaint"] | None
    locked: bool
    authority: dict[str, Decimal]
    forward: tuple[str, ...]
    flags: tuple[str, ...]
    deadlines: Deadlines
    reasons: tuple[Reason, ...]
    evaluated_at: datetime | None = None
    """The instant the decision was taken at (spec section 8)."""
    contact_at: datetime | None = None
    """For a callback or email: when the handler's calendar next opens (null: unknown, or live)."""
    next_review_at: datetime | None = None
    """The earliest instant after evaluated_at at which time alone can change this decision."""
    summary: str = ""
    """For the player: who handles the case and how they hear from us, composed from this decision alone."""
    agent_note: str | None = None
    """For the agent only: failure, lock, forwards, flags (None when there is nothing internal)."""

    @classmethod
    def trusted(cls, **fields: Any) -> "Decision":
        """A decision from values escalator computed and typed itself (`runtime.decide`): built
        without validating them a second time. Equal to `Decision(**fields)`."""
        unknown = fields.keys() - _DECISION_FIELDS
        if unknown:
            raise TypeError(f"unknown decision fields {sorted(unknown)}")
        values = {name: fields[name] if name in fields else default for name, default in _DECISION_DEFAULTS}
        return trusted(cls, values, set(fields))

    def reviewed_at(self, moment: datetime | None) -> "Decision":
        """This decision with its `next_review_at` (what `model_copy(update=...)` gives, built directly)."""
        values = dict(self.__dict__)
        values["next_review_at"] = moment
        return trusted(type(self), values, self.model_fields_set | {"next_review_at"})

    @property
    def fired(self) -> tuple[str, ...]:
        """Ids of the rules that fired, sorted by id."""
        return tuple(reason.rule for reason in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """The spec's decision JSON as plain data, keys in the documented order."""
        return {
            "case_id": self.case_id,
            "policy": {"id": self.policy.id, "version": self.policy.version, "digest": self.policy.digest},
            "handler": self.handler,
            "escalate": self.escalate,
            "transfer": self.transfer,
            "procedure": self.procedure,
            "locked": self.locked,
            "authority": {action: format_money(cap) for action, cap in self.authority.items()},
            "forward": list(self.forward),
            "flags": list(self.flags),
            "deadlines": {
                "acknowledge_by": _timestamp(self.deadlines.acknowledge_by),
                "resolve_by": _timestamp(self.deadlines.resolve_by),
                "paused": self.deadlines.paused,
            },
            "evaluated_at": _timestamp(self.evaluated_at),
            "contact_at": _timestamp(self.contact_at),
            "next_review_at": _timestamp(self.next_review_at),
            "reasons": [{"rule": r.rule, "message": r.message} for r in self.reasons],
            "summary": self.summary,
            "agent_note": self.agent_note,
        }

    def to_json(self, indent: int | None = None) -> str:
        """Canonical JSON: the same decision is the same bytes, every time."""
        if indent is None:
            return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


_DECISION_FIELDS = frozenset(Decision.model_fields)
_DECISION_DEFAULTS = tuple((name, None if info.is_required() else info.default)
                           for name, info in Decision.model_fields.items())


def trusted_deadlines(acknowledge_by: datetime | None, resolve_by: datetime | None, paused: bool) -> Deadlines:
    """`Deadlines(...)` from values escalator computed itself (no second validation)."""
    return trusted(Deadlines, {"acknowledge_by": acknowledge_by, "resolve_by": resolve_by, "paused": paused},
                   {"acknowledge_by", "resolve_by", "paused"})
