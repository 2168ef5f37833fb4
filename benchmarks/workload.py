"""The benchmark workload: a seeded mix of NL cases, as support software would send them.

Every request kind appears; amounts cluster on the NL policy's thresholds (a cent
below, at, a cent above), so the boundary comparisons are exercised as often as
the easy cases. Values are what `json.loads` gives (ints and floats with at most
two decimals), so the same dicts can be written out as JSON Lines.
"""

from __future__ import annotations

import random
from typing import Any

KINDS = (
    "bonus_request", "withdrawal_delay", "forfeiture_dispute", "manager_request",
    "executive_request", "complaint", "technical", "other",
)
REACHABLE = ("agent", "responsible_gambling", "supervisor", "vip_manager", "complaints_manager")
ASKED = ("manager", "vip_manager", "supervisor", "finance", "director")

# NL thresholds (policies/nl.yaml over policies/base.yaml)
GOODWILL_CAP = 25.00           # tiers.agent.goodwill_bonus
EXPEDITE_CAP = 2000.00         # tiers.agent.withdrawal_expedite
CDD = 2000.00                  # params.cdd_threshold
LARGE_WIN = 10000.00           # params.large_win
MAX_PENDING = 48               # params.max_pending_hours
REVERSAL_CAP = 100.00          # tiers.agent.forfeiture_reversal
LARGE_FORFEITURE = 1000.00     # params.large_forfeiture
HEAVY_LOSS = 700.00            # params.heavy_loss_30d
VIP_MIN = 3                    # params.vip_min_level


def _near(rng: random.Random, threshold: float, spread: float) -> float | int:
    """Mostly a cent either side of (or exactly at) the threshold, sometimes anywhere."""
    roll = rng.random()
    if roll < 0.6:
        value = threshold + rng.choice((-0.01, 0.0, 0.01))
    else:
        value = max(0.0, threshold + rng.uniform(-spread, spread))
    value = round(value, 2)
    return int(value) if value == int(value) and rng.random() < 0.5 else value


def _hours(rng: random.Random) -> float | int:
    roll = rng.random()
    if roll < 0.6:
        return MAX_PENDING + rng.choice((-1, 0, 1)) if rng.random() < 0.7 else round(MAX_PENDING + rng.choice((-0.01, 0.01)), 2)
    return rng.randint(0, 200)


def _timestamp(rng: random.Random) -> str:
    month = rng.randint(1, 12)
    day = rng.randint(2 if month == 1 else 1, 28)  # NL is in force from 2026-01-01 (UTC date of opened_at)
    hour, minute = rng.randint(0, 23), rng.randint(0, 59)
    zone = rng.choice(("Z", "Z", "+01:00", "+02:00", "-05:00"))
    return f"2026-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00{zone}"


def make_case(rng: random.Random, number: int) -> dict[str, Any]:
    kind = rng.choice(KINDS)
    player: dict[str, Any] = {
        "id": f"P-{rng.randint(1, 99999)}",
        "vip_level": rng.choice((0, 1, 2, VIP_MIN - 1, VIP_MIN, VIP_MIN, 4, 5)),
        "account_age_days": rng.randint(0, 3000),
        "net_loss_30d": _near(rng, HEAVY_LOSS, 1500) if rng.random() < 0.8 else -round(rng.uniform(0, 500), 2),
        "rg_markers": rng.choice(([], [], [], [], ["loss_chasing"], ["late_night", "deposit_spike"])),
        "kyc": rng.choice(("verified", "verified", "pending", "failed", "none")),
        "self_excluded": rng.random() < 0.05,
    }
    request: dict[str, Any] = {"kind": kind}
    if kind == "bonus_request" or rng.random() < 0.05:
        request["amount"] = _near(rng, GOODWILL_CAP, 60)
    if kind in ("manager_request", "executive_request") or rng.random() < 0.15:
        request["asked_for"] = rng.sample(ASKED, rng.randint(0 if kind == "other" else 1, 3))
    if kind == "withdrawal_delay" or rng.random() < 0.1:
        amount = _near(rng, rng.choice((EXPEDITE_CAP, CDD, LARGE_WIN)), 6000)
        request["withdrawal"] = {"amount": amount, "pending_hours": _hours(rng)}
    if kind == "forfeiture_dispute" or rng.random() < 0.03:
        forfeiture: dict[str, Any] = {"winnings": _near(rng, rng.choice((REVERSAL_CAP, LARGE_FORFEITURE)), 900)}
        if rng.random() < 0.8:
            forfeiture["breach"] = rng.choice(("max_bet", "excluded_game", "multiple_accounts"))
        deliberate = rng.choice((True, False, False, None))
        if deliberate is not None:
            forfeiture["deliberate"] = deliberate
        request["forfeiture"] = forfeiture
    case: dict[str, Any] = {
        "case_id": f"NL-{number:07d}",
        "jurisdiction": "NL",
        "opened_at": _timestamp(rng),
        "channel": rng.choice(("live_chat", "live_chat", "email", "phone")),
        "handled_by": rng.choice(("agent",) * 6 + REACHABLE),
        "status": rng.choice(("open",) * 6 + ("escalated", "complaint", "closed")),
        "player": player,
        "request": request,
    }
    # decided at the instant it was opened, with a roster: time rules and office calendars (spec
    # section 8) then leave these decisions alone, so the hand-written ones still agree
    case["as_of"] = case["opened_at"]
    rng.random()  # (was: a roster for 70% of the cases) keeps the random stream, so the cases stay the same
    case["on_duty"] = rng.sample(REACHABLE, rng.randint(1, 4))
    if rng.random() < 0.3:
        case["attributes"] = {"brand": rng.choice(("alpha", "beta")), "session_minutes": rng.randint(1, 300)}
    return case


def generate(count: int, seed: int = 20261125) -> list[dict[str, Any]]:
    """`count` valid NL case dicts, the same ones for the same seed."""
    rng = random.Random(seed)
    return [make_case(rng, i) for i in range(count)]
