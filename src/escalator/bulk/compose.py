"""A row of the decision query -> the Decision the Python engine would return.

The query gives every decision field; the reasons are rendered here with the
runtime's own renderer (`escalator.runtime.decide.reason_for`) from the fired rule
ids and the case fields the reason texts quote, so the JSON is byte for byte the
engine's.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from escalator.bulk.sql import split
from escalator.bulk.schema import BY_PATH, INSTANT, INT, NUMBER, TEXTS, integral_column
from escalator.language.ir import CompiledPolicy
from escalator.language.models.decision import Deadlines, Decision
from escalator.runtime.decide import PolicyFacts, reason_for


def quoted_fields(policy: CompiledPolicy) -> tuple[str, ...]:
    """The bulk-table columns the policy's reason texts quote (the query passes them through)."""
    paths: list[str] = []
    for rule in policy.rules:
        for part in rule.reason:
            if part.field is not None and part.field.path in BY_PATH and part.field.path not in paths:
                paths.append(part.field.path)
                if BY_PATH[part.field.path].kind == NUMBER:
                    paths.append(integral_column(part.field.path))
    return tuple(paths)


def quotes_unknown_field(policy: CompiledPolicy) -> list[str]:
    """Reason placeholders the bulk table has no column for (the policy then runs on the Python engine)."""
    return [f"rule {rule.id}: its reason quotes {part.field.path}" for rule in policy.rules for part in rule.reason
            if part.field is not None and part.field.path not in BY_PATH]


def _view_value(path: str, value: Any, row: dict[str, Any]) -> Any:
    """A bulk value as `flat_view` holds it (Decimal numbers, epoch instants, tuples)."""
    if value is None:
        return None
    kind = BY_PATH[path].kind
    if kind in (INT, INSTANT):
        return Decimal(int(value))
    if kind == NUMBER and row.get(integral_column(path)):
        return Decimal(int(value))
    if kind == TEXTS:
        return tuple(value)
    return value


def _instant(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=timezone.utc)


class Composer:
    """Decisions for one policy from its query rows."""

    def __init__(self, policy: CompiledPolicy, facts: PolicyFacts | None = None):
        self.policy = policy
        self.facts = facts or PolicyFacts(policy)
        self.quoted = quoted_fields(policy)
        self.rule_by_id = {r.id: r for r in policy.rules}
        self.actions = policy.actions

    def decision(self, row: dict[str, Any]) -> Decision:
        view = {p: _view_value(p, row.get(p), row) for p in self.quoted if not p.endswith(":integral")}
        reasons = tuple(reason_for(self.facts, self.rule_by_id[rule_id], view) for rule_id in split(row["rules"]))
        return Decision.model_construct(
            case_id=row["case_id"],
            policy=self.facts.ref,
            handler=row["handler"],
            escalate=bool(row["escalate"]),
            transfer=row["transfer"],
            procedure=row["procedure"],
            locked=bool(row["locked"]),
            authority={a: row[f"authority.{a}"] for a in self.actions},
            forward=split(row["forward"]),
            flags=split(row["flags"]),
            deadlines=Deadlines.model_construct(acknowledge_by=_instant(row["deadlines.acknowledge_by"]),
                                                resolve_by=_instant(row["deadlines.resolve_by"])),
            reasons=reasons,
        )
