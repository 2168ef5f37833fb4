"""Fired rules -> Decision: the decision semantics of spec section 6, in one place.

Both backends only say which rules fired; everything below is shared, and it
depends on the *set* of fired rules, never on the order they fired in.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from escalator.language import fields as F
from escalator.language.ir import CompiledPolicy, Rule, Tier
from escalator.language.models.case import Case
from escalator.language.models.decision import Deadlines, Decision, PolicyRef, Reason
from escalator.money import pretty_money
from escalator.runtime.clock import TimeFacts

log = logging.getLogger("escalator")

FAILED_RULE = "escalator.evaluation-failed"
FAILED_FLAG = "evaluation_failed"


class PolicyFacts:
    """What `decide` needs from a policy, looked up once instead of per case (policies are immutable)."""

    __slots__ = ("policy", "ref", "tiers", "levels", "lowest", "complaints", "limits", "time", "constant_reasons",
                 "templates")

    def __init__(self, policy: CompiledPolicy):
        self.policy = policy
        self.ref = PolicyRef(id=policy.id, version=policy.version, digest=policy.digest)
        self.tiers = {t.id: t for t in policy.tiers}
        self.levels = {t.id: t.level for t in policy.tiers}
        self.lowest = policy.lowest_tier
        self.complaints = policy.tier(policy.complaints_tier)
        self.limits = {t.id: {a: t.limit(a) for a in policy.actions} for t in policy.tiers}
        self.time = TimeFacts(policy)
        # a reason without case placeholders is the same text for every case: build its Reason once
        self.constant_reasons = {
            r.index: Reason(rule=r.id, message=render(r, {}))
            for r in policy.rules if not any(part.field is not None for part in r.reason)
        }
        # the other reasons: literal text and policy constants rendered once, case fields per case
        self.templates = {r.index: _template(r) for r in policy.rules if r.index not in self.constant_reasons}


def _template(rule: Rule) -> tuple[str | tuple[str, bool], ...]:
    parts: list[str | tuple[str, bool]] = []
    for part in rule.reason:
        if part.field is not None:
            parts.append((part.field.path, part.field.kind == F.DATETIME))
        else:
            text = part.text if part.const is None else format_value(part.const.value)
            if parts and isinstance(parts[-1], str):
                parts[-1] += text
            else:
                parts.append(text)
    return tuple(parts)


def _fill(template: tuple[str | tuple[str, bool], ...], view: dict[str, Any]) -> str:
    """render() for a rule with case placeholders, from its pre-rendered template."""
    out = []
    for part in template:
        if part.__class__ is str:
            out.append(part)  # type: ignore[arg-type]
        else:
            path, is_datetime = part  # type: ignore[misc]
            value = view.get(path)
            out.append(_iso(value) if is_datetime and isinstance(value, Decimal) else format_value(value))
    return "".join(out)


_NO_DEADLINES = Deadlines(acknowledge_by=None, resolve_by=None, paused=False)
_ZERO = Decimal("0.00")


def decide(policy: CompiledPolicy, case: Case, fired: list[Rule], view: dict[str, Any],
           facts: PolicyFacts | None = None, at: datetime | None = None) -> Decision:
    """The decision for the fired rules at instant `at` (default: the case's as_of, else now).

    `facts` are the policy's precomputed lookups (the Engine keeps them).
    """
    # Everything below depends on the set of fired rules only: reasons are listed by rule id,
    # so neither firing order nor the order of rules in their packs can change a decision.
    if facts is None:
        facts = PolicyFacts(policy)
    if at is None:
        at = evaluation_instant(case)
    handler = choose_handler(policy, fired, facts.tiers) if fired else facts.lowest
    procedure = "complaint" if case.status == "complaint" else None
    forwarded: set[str] = set()
    flag_set: set[str] = set()
    caps: list = []
    denied: list = []
    for rule in fired:  # one pass over the effects
        effects = rule.effects
        if effects.procedure:
            procedure = "complaint"
        if effects.forward:
            forwarded.update(effects.forward)
        if effects.flags:
            flag_set.update(effects.flags)
        if effects.caps:
            caps.extend(effects.caps)
        if effects.deny:
            denied.extend(effects.deny)
    locked = procedure == "complaint"
    if locked:
        handler = facts.complaints

    authority: dict[str, Decimal] = dict(facts.limits[handler.id])
    for cap in caps:
        if cap.action in authority and cap.amount < authority[cap.action]:
            authority[cap.action] = cap.amount
    for action in denied:  # after the caps: a denial is 0 whatever the caps say (caps are never negative)
        if action in authority:
            authority[action] = _ZERO

    forward = tuple(t.id for t in policy.tiers if t.id in forwarded) if forwarded else ()
    flags = tuple(sorted(flag_set)) if flag_set else ()
    escalate = handler.level > facts.levels[case.handled_by]
    situation = "complaint" if locked else "escalated" if escalate or case.status == "escalated" else "default"
    due = deadlines(facts.time, case, situation)
    duty = facts.time.on_duty(case, handler, at)
    transfer = "live" if duty is not False else handler.fallback
    constant, templates = facts.constant_reasons, facts.templates
    reasons = tuple(
        constant.get(r.index) or Reason(rule=r.id, message=_fill(templates[r.index], view))
        for r in sorted(fired, key=_rule_id)
    )
    return Decision(
        case_id=case.case_id,
        policy=facts.ref,
        handler=handler.id,
        escalate=escalate,
        transfer=transfer,
        procedure=procedure,
        locked=locked,
        authority=authority,
        forward=forward,
        flags=flags,
        deadlines=due,
        reasons=reasons,
        evaluated_at=at,
        contact_at=facts.time.contact_at(handler, at) if transfer != "live" else None,
    )


def _rule_id(rule: Rule) -> str:
    return rule.id


def choose_handler(policy: CompiledPolicy, fired: list[Rule], tiers: dict[str, Tier] | None = None) -> Tier:
    """The most senior required tier; on a level tie the higher rule priority, then tier order."""
    best: tuple[tuple[int, int, int], Tier] | None = None
    for rule in fired:
        if rule.effects.require is None:
            continue
        tier = tiers[rule.effects.require] if tiers is not None else policy.tier(rule.effects.require)
        key = (tier.level, rule.priority, -tier.order)
        if best is None or key > best[0]:
            best = (key, tier)
    return best[1] if best else policy.lowest_tier


def transfer_mode(handler: Tier, case: Case) -> str:
    """By the case's roster alone (no calendars): live unless the roster leaves the handler out."""
    if case.on_duty is None or handler.id in case.on_duty:
        return "live"
    return handler.fallback


def evaluation_instant(case: Case, at: datetime | None = None) -> datetime:
    """`at` if given, else the case's `as_of`, else now; in UTC, whole seconds (spec section 8)."""
    from datetime import timezone

    from escalator.language.time import utc_seconds

    moment = at if at is not None else case.as_of if case.as_of is not None else datetime.now(timezone.utc)
    return utc_seconds(moment)


def deadlines(time: TimeFacts, case: Case, situation: str) -> Deadlines:
    """The situation's SLA deadlines from its clock (a zero period is due at once)."""
    due = time.due(case, situation)
    if due.acknowledge_by is None and due.resolve_by is None and not due.paused:
        return _NO_DEADLINES
    return Deadlines(acknowledge_by=due.acknowledge_by, resolve_by=due.resolve_by, paused=due.paused)


def render(rule: Rule, view: dict[str, Any]) -> str:
    """The rule's reason with its placeholders filled in (its description if it has none)."""
    if not rule.reason:
        return rule.description
    return _fill(_template(rule), view)


def _iso(epoch: Decimal) -> str:
    from datetime import timezone

    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_value(value: Any) -> str:
    if value is None or value is F.PRESENT:
        return "(unknown)" if value is None else "(present)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and value.as_tuple().exponent >= 0:  # type: ignore[operator]
            return f"{int(value):,}"
        return pretty_money(value)
    if isinstance(value, tuple):
        return ", ".join(format_value(v) for v in value) or "(none)"
    return str(value)


def failsafe_tier(policy: CompiledPolicy) -> Tier:
    """Where a failed evaluation goes: the policy's `failsafe_tier` (see the compiler for its default)."""
    return policy.tier(policy.failsafe_tier)


def _safe_due(policy: CompiledPolicy, case: Case, situation: str) -> Deadlines:
    """The failsafe's deadlines; the failsafe itself must never raise, so none if they cannot be computed."""
    try:
        return deadlines(TimeFacts(policy), case, situation)
    except Exception:
        return _NO_DEADLINES


def failsafe_decision(policy: CompiledPolicy, case: Case, error: BaseException,
                      at: datetime | None = None) -> Decision:
    """Fail closed: a senior human looks at the case and nobody may give anything away."""
    log.error("evaluation of case %s under policy %s failed", case.case_id, policy.id, exc_info=error)
    handler = failsafe_tier(policy)
    locked = case.status == "complaint"
    if locked:
        handler = policy.tier(policy.complaints_tier)
    escalate = handler.level > policy.tier(case.handled_by).level
    return Decision(
        case_id=case.case_id,
        policy=PolicyRef(id=policy.id, version=policy.version, digest=policy.digest),
        handler=handler.id,
        escalate=escalate,
        transfer=transfer_mode(handler, case),
        procedure="complaint" if locked else None,
        locked=locked,
        authority={action: Decimal("0.00") for action in policy.actions},
        forward=(),
        flags=(FAILED_FLAG,),
        deadlines=_safe_due(policy, case, "complaint" if locked else "escalated"),
        reasons=(Reason(
            rule=FAILED_RULE,
            message=f"Automatic evaluation failed ({type(error).__name__}); a {handler.name} must review "
            "this case by hand. No authority is granted until then.",
        ),),
        evaluated_at=_safe_instant(case, at),
    )


def _safe_instant(case: Case, at: datetime | None) -> datetime | None:
    try:
        return evaluation_instant(case, at)
    except Exception:
        return None


