"""Generated large policies (shared by tests/test_policy_scale.py and benchmarks/rule_scaling.py).

Rule i: `request.amount > A_i and player.vip_level >= M_i`, requiring one of four tiers:
the shape that made durable_rules abort (200 rules) and hang (2,000 rules).
"""

from __future__ import annotations

import random
from pathlib import Path

_BASE = """policy: base
version: "1"
abstract: true
complaints_tier: complaints
tiers:
  - {id: agent, name: Agent, level: 1, fallback: callback,
     authority: {goodwill_bonus: 50.00, withdrawal_expedite: 1000.00, forfeiture_reversal: 100.00}}
  - {id: vip, name: VIP manager, level: 2, fallback: email,
     authority: {goodwill_bonus: 200.00, withdrawal_expedite: 5000.00, forfeiture_reversal: 500.00}}
  - {id: rg, name: Responsible gambling, level: 2, fallback: callback,
     authority: {goodwill_bonus: 0.00, withdrawal_expedite: 5000.00, forfeiture_reversal: 500.00}}
  - {id: supervisor, name: Supervisor, level: 3, fallback: callback,
     authority: {goodwill_bonus: 500.00, withdrawal_expedite: 10000.00, forfeiture_reversal: 1000.00}}
  - {id: complaints, name: Complaints manager, level: 4, fallback: email,
     authority: {goodwill_bonus: 1000.00, withdrawal_expedite: 20000.00, forfeiture_reversal: 5000.00}}
rules:
  packs: [big]
"""
_POLICY = 'policy: xx\nversion: "1"\nextends: base\njurisdictions: [XX]\n'


def write_scaled_policy(folder: Path, rules: int, seed: int = 1) -> tuple[Path, Path]:
    """Write an N-rule policy under `folder`; returns (policies dir, rules dir)."""
    policies, packs = folder / "policies", folder / "rules"
    policies.mkdir(parents=True, exist_ok=True)
    packs.mkdir(parents=True, exist_ok=True)
    (policies / "base.yaml").write_text(_BASE)
    (policies / "xx.yaml").write_text(_POLICY)
    rng = random.Random(seed)
    lines = ["pack: big", "rules:"]
    for i in range(rules):
        amount, level = rng.randint(0, 1000), rng.randint(0, 5)
        tier = rng.choice(["agent", "vip", "rg", "supervisor"])
        lines.append(f"  - {{id: r{i}, description: rule {i}, priority: {rng.randint(0, 3)},"
                     f" when: request.amount > {amount} and player.vip_level >= {level}, then: {{require: {tier}}}}}")
    (packs / "big.yaml").write_text("\n".join(lines) + "\n")
    return policies, packs


def scale_cases() -> list[dict[str, object]]:
    """Cases with few, many and most rules firing (and one with no amount: none fire)."""
    base = {"case_id": "C-1", "jurisdiction": "XX", "opened_at": "2026-11-20T14:03:00Z", "channel": "live_chat",
            "handled_by": "agent", "status": "open",
            "player": {"id": "P-1", "vip_level": 0, "account_age_days": 100, "net_loss_30d": "0.00",
                       "rg_markers": [], "kyc": "verified", "self_excluded": False},
            "request": {"kind": "other"}}
    cases = []
    for number, (amount, level) in enumerate([(None, 5), ("10.00", 0), ("400.00", 3), ("999.99", 5), ("1000.00", 5)]):
        case = {**base, "case_id": f"C-{number}", "player": {**base["player"], "vip_level": level},  # type: ignore[dict-item]
                "request": {"kind": "other"} if amount is None else {"kind": "other", "amount": amount}}
        cases.append(case)
    return cases
