"""Why a decision is what it is: every rule, whether it fired, and every comparison's values.

The explanation evaluates each rule with the reference semantics
(`escalator.runtime.semantics`), recording each comparison's operands and result, and for numeric
thresholds how far the case is from them ("2,400.00 is 400.00 above ...").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from escalator.language import fields as F
from escalator.runtime.decide import format_value
from escalator.runtime.semantics import evaluate
from escalator.language.ir import Compare, CompiledPolicy, Const
from escalator.language.models.decision import Decision


@dataclass
class ComparisonTrace:
    text: str
    op: str
    field: str
    value: Any
    against: Any
    against_source: str | None
    result: bool | None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "comparison": self.text,
            "field": self.field,
            "value": _json(self.value),
            "against": _json(self.against),
            "against_source": self.against_source,
            "result": self.result,
            "note": self.note,
        }


@dataclass
class RuleTrace:
    id: str
    description: str
    fired: bool
    result: bool | None
    comparisons: list[ComparisonTrace] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.id,
            "description": self.description,
            "fired": self.fired,
            "result": self.result,
            "comparisons": [c.to_dict() for c in self.comparisons],
        }


@dataclass
class Explanation:
    decision: Decision
    rules: list[RuleTrace]

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.to_dict(), "rules": [r.to_dict() for r in self.rules]}


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    if value is F.PRESENT:
        return "(present)"
    return value


def trace_rules(policy: CompiledPolicy, view: dict[str, Any], fired: set[int]) -> list[RuleTrace]:
    """Every rule's result under the reference semantics, with each comparison's operands."""
    traces = []
    for rule in policy.rules:
        comparisons: list[ComparisonTrace] = []

        def record(node: Compare, value: Any, against: Any, result: bool | None,
                   out: list[ComparisonTrace] = comparisons) -> None:
            out.append(_trace(node, value, against, result))

        result = evaluate(rule.condition, view, record)
        traces.append(RuleTrace(rule.id, rule.description, rule.index in fired, result, comparisons))
    return traces


def _trace(node: Compare, value: Any, against: Any, result: bool | None) -> ComparisonTrace:
    path, op, right = node.left.path, node.op, node.right
    if right is None:
        return ComparisonTrace(f"{path} {op}", op, path, value, None, None, result)
    source = right.source if isinstance(right, Const) else right.path
    shown = source or _literal(against)
    trace = ComparisonTrace(f"{path} {op} {shown}", op, path, value, against, source, result)
    trace.note = _margin(path, value, against, source, node.left.kind)
    return trace


def _literal(value: Any) -> str:
    """A constant as a policy author would write it in a condition."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return str(value)


def _margin(path: str, value: Any, against: Any, source: str | None, kind: str) -> str | None:
    """How far a number is from a threshold, in words."""
    if kind == F.DATETIME or not isinstance(value, Decimal) or not isinstance(against, Decimal):
        return None
    if isinstance(value, bool) or isinstance(against, bool):
        return None
    name = path.rsplit(".", 1)[-1].replace("_", " ")
    threshold = source or "the threshold"
    if source and source.startswith("tiers."):
        _, tier, action = source.split(".")
        threshold = f"the {tier.replace('_', ' ')} {action.replace('_', ' ')} cap"
    elif source and source.startswith("params."):
        threshold = source[len("params."):].replace("_", " ")
    difference = value - against
    if difference == 0:
        return f"{name} {format_value(value)} is exactly at {threshold} {format_value(against)}"
    direction = "above" if difference > 0 else "below"
    return (
        f"{name} {format_value(value)} is {format_value(abs(difference))} {direction} "
        f"{threshold} {format_value(against)}"
    )
