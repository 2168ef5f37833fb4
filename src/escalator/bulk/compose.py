"""A row of the decision query -> the Decision the Python engine would return.

The query gives every decision field; the reasons are rendered here with the
runtime's own messages (`escalator.runtime.messages.PolicyTexts`) from the fired rule
ids and the case fields the reason texts quote, so the JSON is byte for byte the
engine's.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from escalator.bulk.sql import split
from escalator.bulk.schema import BY_PATH, INSTANT, INT, NUMBER, TEXTS, scale_column
from escalator.language.ir import CompiledPolicy
from escalator.language.models.decision import Deadlines, Decision
from escalator.runtime.decide import PolicyFacts


def quoted_fields(policy: CompiledPolicy) -> tuple[str, ...]:
    """The bulk-table columns the policy's reason texts quote (the query passes them through)."""
    paths: list[str] = []
    for rule in policy.rules:
        for part in (p for _, template in rule.templates() for p in template):
            if part.field is not None and part.field.path in BY_PATH and part.field.path not in paths:
                paths.append(part.field.path)
                if BY_PATH[part.field.path].kind == NUMBER:
                    paths.append(scale_column(part.field.path))
    return tuple(paths)


def quotes_unknown_field(policy: CompiledPolicy) -> list[str]:
    """Reason placeholders the bulk table has no column for (the policy then runs on the Python engine)."""
    return sorted({f"rule {rule.id}: its reason quotes {part.field.path}" for rule in policy.rules
                   for _, template in rule.templates() for part in template
                   if part.field is not None and part.field.path not in BY_PATH})


def _view_value(path: str, value: Any, row: dict[str, Any]) -> Any:
    """A bulk value as `flat_view` holds it (Decimal numbers, epoch instants, tuples)."""
    if value is None:
        return None
    kind = BY_PATH[path].kind
    if kind in (INT, INSTANT):
        return Decimal(int(value))
    if kind == NUMBER:
        scale = row.get(scale_column(path))
        return value if scale is None else value.quantize(Decimal(1).scaleb(-int(scale)))
    if kind == TEXTS:
        return tuple(value)
    return value


def _instant(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=timezone.utc)


class Composer:
    """Decisions for one policy from its query rows, with messages in `locale` (default: the policy's)."""

    def __init__(self, policy: CompiledPolicy, locale: str | None = None, facts: PolicyFacts | None = None):
        self.policy = policy
        self.facts = facts or PolicyFacts(policy)
        self.texts = self.facts.texts[locale or policy.locale]
        self.quoted = quoted_fields(policy)
        self.rule_by_id = {r.id: r for r in policy.rules}
        self.actions = policy.actions

    def decision(self, row: dict[str, Any]) -> Decision:
        view = {p: _view_value(p, row.get(p), row) for p in self.quoted if not p.endswith(":scale")}
        reasons = tuple(self.texts.reason(self.rule_by_id[rule_id], view) for rule_id in split(row["rules"]))
        return self.texts.finish(Decision.model_construct(
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
        ))
