"""Hypothesis strategies for the suite: valid cases for a set of compiled policies,
with amounts drawn at and around every threshold the policies use."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from escalator.ir import CompiledPolicy, Const, walk

CENT = Decimal("0.01")


def thresholds(policies: list[CompiledPolicy]) -> list[Decimal]:
    """Every numeric constant in conditions, every tier limit and every cap."""
    found: set[Decimal] = {Decimal("0.00")}
    for policy in policies:
        for tier in policy.tiers:
            found.update(amount for _, amount in tier.authority)
        for param in policy.params:
            if isinstance(param.value, Decimal):
                found.add(param.value)
        for rule in policy.rules:
            found.update(cap.amount for cap in rule.effects.caps)
            for node in walk(rule.condition):
                right = getattr(node, "right", None)
                if isinstance(right, Const) and isinstance(right.value, Decimal):
                    found.add(right.value)
    return sorted(found)


def amounts(policies: list[CompiledPolicy]) -> st.SearchStrategy[Decimal]:
    edges = thresholds(policies)
    near = st.sampled_from(edges).flatmap(
        lambda t: st.sampled_from([t - CENT, t, t + CENT]).filter(lambda a: a >= 0)
    )
    anywhere = st.integers(0, 5_000_000).map(lambda cents: Decimal(cents) / 100)
    return st.one_of(near, near, anywhere).map(lambda a: a.quantize(CENT))


def money(policies):
    return amounts(policies).map(str)


@st.composite
def cases(draw, policies: list[CompiledPolicy]):
    policy = draw(st.sampled_from(policies))
    reachable = [t.id for t in policy.tiers if t.player_reachable]
    all_tiers = [t.id for t in policy.tiers]
    kind = draw(st.sampled_from([
        "bonus_request", "withdrawal_delay", "forfeiture_dispute", "manager_request",
        "executive_request", "complaint", "technical", "other",
    ]))
    request: dict = {"kind": kind}
    if draw(st.booleans()):
        request["amount"] = draw(money(policies))
    request["asked_for"] = draw(st.lists(
        st.sampled_from(["manager", "vip_manager", "supervisor", "finance", "director"]), max_size=3, unique=True))
    if draw(st.booleans()):
        request["withdrawal"] = {"amount": draw(money(policies)),
                                 "pending_hours": draw(st.sampled_from([0, 24, 47, 48, 49, 71, 72, 73, 96, 200]))}
    if draw(st.booleans()):
        forfeiture = {"winnings": draw(money(policies))}
        if draw(st.booleans()):
            forfeiture["breach"] = draw(st.sampled_from(["max_bet", "wagering", "multi_account"]))
        if draw(st.booleans()):
            forfeiture["deliberate"] = draw(st.booleans())
        request["forfeiture"] = forfeiture
    case = {
        "case_id": f"H-{draw(st.integers(0, 10**6))}",
        "jurisdiction": draw(st.sampled_from(policy.jurisdictions)),
        "opened_at": "2026-11-20T14:03:00Z",
        "channel": draw(st.sampled_from(["live_chat", "email", "phone"])),
        "handled_by": draw(st.sampled_from(reachable)),
        "status": draw(st.sampled_from(["open", "open", "escalated", "complaint", "closed"])),
        "player": {
            "id": "P-1",
            "vip_level": draw(st.integers(0, 5)),
            "account_age_days": draw(st.sampled_from([0, 29, 30, 31, 89, 90, 91, 365, 2000])),
            "net_loss_30d": draw(money(policies)),
            "rg_markers": draw(st.lists(st.sampled_from(["loss_chasing", "chasing", "self_reported", "limit_changes"]),
                                        max_size=2, unique=True)),
            "kyc": draw(st.sampled_from(["verified", "pending", "failed", "none"])),
            "self_excluded": draw(st.booleans()),
        },
        "request": request,
    }
    if draw(st.booleans()):
        case["on_duty"] = draw(st.lists(st.sampled_from(all_tiers), max_size=4, unique=True))
    return case
