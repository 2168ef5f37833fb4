"""Fired rules -> Decision: the decision semantics of spec section 6, in one place.

Both backends only say which rules fired; everything below is shared, and it
depends on the *set* of fired rules, never on the order they fired in.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from types import SimpleNamespace
from decimal import Decimal
from typing import Any

from escalator.language import fields as F
from escalator.language.ir import Cap, CompiledPolicy, Rule, Tier
from escalator.language.models.case import Case
from escalator.language.locales import LOCALES
from escalator.language.models.decision import (
    FAILED_FLAG, FAILED_RULE, Deadlines, Decision, PolicyRef, Reason, trusted_deadlines,
)
from escalator.runtime.messages import PolicyTexts
from escalator.money import pretty_money
from escalator.runtime.clock import TimeFacts
from escalator.language.time import utc_seconds

log = logging.getLogger("escalator")

__all__ = ["FAILED_FLAG", "FAILED_RULE", "PolicyFacts", "choose_handler", "deadlines", "decide",
           "evaluation_instant", "failsafe_decision", "failsafe_tier", "format_value", "transfer_mode"]


class PolicyFacts:
    """What `decide` needs from a policy, looked up once instead of per case (policies are immutable)."""

    __slots__ = ("policy", "ref", "tiers", "levels", "lowest", "complaints", "limits", "time", "texts")

    def __init__(self, policy: CompiledPolicy):
        self.policy = policy
        self.ref = PolicyRef(id=policy.id, version=policy.version, digest=policy.digest)
        self.tiers = {t.id: t for t in policy.tiers}
        self.levels = {t.id: t.level for t in policy.tiers}
        self.lowest = policy.lowest_tier
        self.complaints = policy.tier(policy.complaints_tier)
        self.limits = {t.id: {a: t.limit(a) for a in policy.actions} for t in policy.tiers}
        self.time = TimeFacts(policy)  # calendars, SLA clocks and the time fields the rules read
        # reasons, summary and agent note in every locale: literal text and policy constants rendered once
        self.texts = {locale: PolicyTexts(policy, locale) for locale in LOCALES}


_NO_DEADLINES = Deadlines(acknowledge_by=None, resolve_by=None, paused=False)
_ZERO = Decimal("0.00")


def decide(policy: CompiledPolicy, case: Case, fired: list[Rule], view: dict[str, Any],
           facts: PolicyFacts | None = None, locale: str | None = None, at: datetime | None = None) -> Decision:
    """The decision for the fired rules at instant `at` (default: the case's as_of, else now).

    `facts` are the policy's precomputed lookups (the Engine keeps them). Its messages are in
    `locale` (a known one: see `messages.check_locale`), else the policy's."""
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
    caps: list[Cap] = []
    denied: list[str] = []
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
    texts = facts.texts[locale or policy.locale]
    reasons = tuple(texts.reason(r, view) for r in sorted(fired, key=_rule_id))
    fields: dict[str, Any] = dict(
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
    # summary and agent note read these final fields only (a namespace: no second Decision to build)
    return Decision.trusted(**fields, **texts.messages(SimpleNamespace(**fields)))


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
    if at is None and case.as_of is not None and not case.as_of.microsecond:
        return case.as_of  # the model keeps as_of in UTC already
    moment = at if at is not None else case.as_of if case.as_of is not None else datetime.now(timezone.utc)
    return utc_seconds(moment)


def deadlines(time: TimeFacts, case: Case, situation: str) -> Deadlines:
    """The situation's SLA deadlines from its clock (a zero period is due at once)."""
    due = time.due(case, situation)
    if due.acknowledge_by is None and due.resolve_by is None and not due.paused:
        return _NO_DEADLINES
    return trusted_deadlines(due.acknowledge_by, due.resolve_by, due.paused)


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


def failsafe_decision(policy: CompiledPolicy, case: Case, error: BaseException, locale: str | None = None,
                      texts: PolicyTexts | None = None, at: datetime | None = None) -> Decision:
    """Fail closed: a senior human looks at the case and nobody may give anything away.

    It has a summary like every decision; if even the messages fail, the plain English one below."""
    log.error("evaluation of case %s under policy %s failed", case.case_id, policy.id, exc_info=error)
    handler = failsafe_tier(policy)
    locked = case.status == "complaint"
    if locked:
        handler = policy.tier(policy.complaints_tier)
    escalate = handler.level > policy.tier(case.handled_by).level
    decision = Decision(
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
            message=f"Automatic evaluation failed ({type(error).__name__}); nobody may grant anything on this "
            "case until it has been reviewed by hand.",
        ),),
        summary=f"Your case is handled by the {handler.name}.",
        agent_note="Automatic evaluation failed: review this case by hand; no authority is granted until then.",
        evaluated_at=_safe_instant(case, at),
    )
    try:
        texts = texts or PolicyTexts(policy, locale or policy.locale)
        reason = Reason(rule=FAILED_RULE, message=texts.failed_reason(error))
        return texts.finish(decision.model_copy(update={"reasons": (reason,)}))
    except Exception:  # the failsafe never raises
        log.exception("messages for the failsafe decision of case %s failed", case.case_id)
        return decision




def _safe_instant(case: Case, at: datetime | None) -> datetime | None:
    try:
        return evaluation_instant(case, at)
    except Exception:
        return None
