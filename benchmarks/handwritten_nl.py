"""The NL policy written by hand as plain if/elif Python: the practical speed limit.

This is what a developer would write instead of using escalator: the bundled
rule packs with the NL parameters (policies/nl.yaml over policies/base.yaml)
hard-coded, reading the case dict as it arrives (no validation, NL only). It
returns the same decision fields as escalator (handler, escalate, transfer,
procedure, locked, authority, forward, flags, deadlines, fired rule ids); it
does not write reason messages.

`combine(case, fired_set, opened_at)` is shared with handwritten_durable.py,
which only replaces the rule conditions by durable_rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

ZERO = Decimal("0.00")
LEVEL = {"agent": 1, "responsible_gambling": 2, "supervisor": 2, "vip_manager": 2, "complaints_manager": 3}
FALLBACK = {"agent": "email", "responsible_gambling": "callback", "supervisor": "email",
            "vip_manager": "callback", "complaints_manager": "email"}
LIMITS = {  # goodwill_bonus, withdrawal_expedite, forfeiture_reversal (NL overrides goodwill)
    "agent": (Decimal("25.00"), Decimal("2000.00"), Decimal("100.00")),
    "responsible_gambling": (Decimal("0.00"), Decimal("5000.00"), Decimal("500.00")),
    "supervisor": (Decimal("150.00"), Decimal("10000.00"), Decimal("1000.00")),
    "vip_manager": (Decimal("250.00"), Decimal("5000.00"), Decimal("500.00")),
    "complaints_manager": (Decimal("1000.00"), Decimal("25000.00"), Decimal("5000.00")),
}
ESCALATED_ACK = timedelta(hours=24)
COMPLAINT_ACK = timedelta(hours=48)
COMPLAINT_RESOLVE = timedelta(weeks=6)
UTC = timezone.utc
_EMPTY: tuple = ()

# rule ids, so a typo is a NameError rather than a silent disagreement
BONUS_ABOVE = "bonus.above-agent-cap"
BONUS_HARM = "bonus.harm-markers"
BONUS_HEAVY = "bonus.heavy-losses"
WD_ABOVE = "withdrawal.above-agent-expedite-cap"
WD_KYC = "withdrawal.kyc-incomplete"
WD_LARGE = "withdrawal.large-win"
WD_PENDING = "withdrawal.pending-too-long"
FF_WITHIN = "forfeiture.within-agent-cap"
FF_ABOVE = "forfeiture.above-agent-cap"
FF_DELIBERATE = "forfeiture.deliberate-breach"
FF_LARGE = "forfeiture.large-forfeiture"
MGR_VIP = "manager.vip-to-vip-manager"
MGR_REGULAR = "manager.regular-to-supervisor"
EXEC_DIRECTOR = "executive.director-demand"
EXEC_FINANCE = "executive.finance-demand"
COMPLAINT_REQUEST = "complaint.player-request"
COMPLAINT_ALREADY = "complaint.already-in-procedure"
RG_SELF_EXCLUDED = "responsible_gambling.self-excluded"
RG_HARM = "responsible_gambling.harm-markers"

RG_RULES = frozenset((BONUS_HARM, RG_SELF_EXCLUDED, RG_HARM))
SUPERVISOR_PRIORITY_10 = frozenset((WD_KYC, WD_LARGE))
SUPERVISOR_PRIORITY_0 = frozenset((BONUS_ABOVE, WD_ABOVE, WD_PENDING, FF_ABOVE, MGR_REGULAR))
PROCEDURE_RULES = frozenset((FF_LARGE, COMPLAINT_REQUEST, COMPLAINT_ALREADY))


def fired_rules(case: dict[str, Any]) -> set[str]:
    """Which NL rules hold for the case (absent optional values never satisfy a comparison)."""
    player = case["player"]
    request = case["request"]
    kind = request["kind"]
    fired: set[str] = set()
    markers = bool(player.get("rg_markers"))
    excluded = player.get("self_excluded") is True
    vip = player.get("vip_level", 0)
    if kind == "bonus_request":
        amount = request.get("amount")
        if amount is not None and amount > 25.00:
            fired.add(BONUS_ABOVE)
        if markers or excluded:
            fired.add(BONUS_HARM)
        if player.get("net_loss_30d", 0) >= 700.00:
            fired.add(BONUS_HEAVY)
    elif kind == "forfeiture_dispute":
        forfeiture = request.get("forfeiture")
        if forfeiture is not None:
            winnings = forfeiture["winnings"]
            deliberate = forfeiture.get("deliberate")
            if winnings <= 100.00 and deliberate is False:
                fired.add(FF_WITHIN)
            if winnings > 100.00:
                fired.add(FF_ABOVE)
            if winnings > 1000.00:
                fired.add(FF_LARGE)
            if deliberate is True:
                fired.add(FF_DELIBERATE)
    elif kind == "complaint":
        fired.add(COMPLAINT_REQUEST)
    withdrawal = request.get("withdrawal")
    if withdrawal is not None:
        amount = withdrawal["amount"]
        if amount > 2000.00:
            fired.add(WD_ABOVE)
        if amount >= 2000.00 and player.get("kyc", "none") != "verified":
            fired.add(WD_KYC)
        if amount > 10000.00:
            fired.add(WD_LARGE)
        if withdrawal.get("pending_hours", 0) > 48:
            fired.add(WD_PENDING)
    asked = request.get("asked_for") or _EMPTY
    if asked:
        if "manager" in asked or "vip_manager" in asked or "supervisor" in asked:
            fired.add(MGR_VIP if vip >= 3 else MGR_REGULAR)
        if "director" in asked:
            fired.add(EXEC_DIRECTOR)
        if "finance" in asked:
            fired.add(EXEC_FINANCE)
    if case.get("status", "open") == "complaint":
        fired.add(COMPLAINT_ALREADY)
    if excluded:
        fired.add(RG_SELF_EXCLUDED)
    if markers:
        fired.add(RG_HARM)
    return fired


def combine(case: dict[str, Any], fired: set[str]) -> dict[str, Any]:
    """Fired NL rules -> the decision fields (spec section 6, specialised to NL by hand)."""
    locked = case.get("status", "open") == "complaint" or not PROCEDURE_RULES.isdisjoint(fired)
    if locked:
        handler = "complaints_manager"
    elif not RG_RULES.isdisjoint(fired):
        handler = "responsible_gambling"
    elif not SUPERVISOR_PRIORITY_10.isdisjoint(fired):
        handler = "supervisor"
    elif MGR_VIP in fired:
        handler = "vip_manager"
    elif not SUPERVISOR_PRIORITY_0.isdisjoint(fired):
        handler = "supervisor"
    else:
        handler = "agent"
    goodwill, expedite, reversal = LIMITS[handler]
    if BONUS_HEAVY in fired or not RG_RULES.isdisjoint(fired):
        goodwill = ZERO
    if WD_KYC in fired:
        expedite = ZERO
    if FF_DELIBERATE in fired:
        reversal = ZERO
    forward = []
    if WD_LARGE in fired or EXEC_FINANCE in fired:
        forward.append("finance")
    if EXEC_DIRECTOR in fired:
        forward.append("director")
    flags = []
    if WD_KYC in fired:
        flags.append("kyc_check")
    if WD_LARGE in fired:
        flags.append("large_win")
    if WD_PENDING in fired:
        flags.append("payout_overdue")
    if BONUS_HEAVY in fired or not RG_RULES.isdisjoint(fired):
        flags.append("rg_review")
    if RG_SELF_EXCLUDED in fired:
        flags.append("self_exclusion")
    escalate = LEVEL[handler] > LEVEL[case["handled_by"]]
    on_duty = case.get("on_duty")
    transfer = "live" if on_duty is None or handler in on_duty else FALLBACK[handler]
    acknowledge = resolve = None
    if locked or escalate or case["status"] == "escalated":  # spec 8: the escalated clock also runs for that status
        opened = datetime.fromisoformat(case["opened_at"]).astimezone(UTC)
        if locked:
            acknowledge, resolve = opened + COMPLAINT_ACK, opened + COMPLAINT_RESOLVE
        else:
            acknowledge = opened + ESCALATED_ACK
    return {
        "handler": handler,
        "escalate": escalate,
        "transfer": transfer,
        "procedure": "complaint" if locked else None,
        "locked": locked,
        "authority": {"goodwill_bonus": goodwill, "withdrawal_expedite": expedite, "forfeiture_reversal": reversal},
        "forward": forward,
        "flags": flags,
        "deadlines": {"acknowledge_by": acknowledge, "resolve_by": resolve},
        "fired": fired,
    }


def decide(case: dict[str, Any]) -> dict[str, Any]:
    return combine(case, fired_rules(case))
