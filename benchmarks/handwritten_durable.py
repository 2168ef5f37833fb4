"""The NL policy written by hand directly against durable_rules 2.0.28, in its fastest correct form.

The rule conditions are durable_rules JSON, hand-written; the combination of the
fired rules is the same Python as handwritten_nl.combine. It follows the traps in
/work/notes/durable/REPORT.md:

- the case is asserted as a *fact* (an event would be consumed by one rule);
- a catch-all rule on an injected `_e` field, so no fact is "not handled"
  (deleting a never-matched state segfaults);
- one fresh sid per case, its state deleted afterwards (1024-session limit);
- a flat fact built straight from the case dict, leaving absent optional values
  out (durable then matches no comparison on them, which is the policy's
  meaning); `rg_n` holds the number of harm markers (`exists` = non-empty);
- no Host, no threads. By default the fired rules are read straight off the C
  engine's action queue (`start_action_for_state` / `complete_and_start_action`,
  the loop `Ruleset.do_actions` runs, minus a Closure, a JSON re-parse and a
  state write-back per fired rule): the fastest correct form. `via_actions=True`
  uses the public `do_actions` with one Python action per rule instead.
Money is compared as the float it arrived as: every NL threshold and every
workload amount has at most two decimals, far from double rounding trouble.
"""

from __future__ import annotations

import itertools
from typing import Any

import durable_rules_engine
from durable import engine as durable_engine

from . import handwritten_nl as H

EX = {"$ex": {"_e": 1}}


def _contains(value: str) -> dict:
    return {"$iany": {"asked": {"$i": value}}}


_MANAGER = {"$or": [_contains("manager"), _contains("vip_manager"), _contains("supervisor")]}

CONDITIONS: dict[str, dict] = {
    H.BONUS_ABOVE: {"$and": [{"kind": "bonus_request"}, {"$gt": {"amount": 25.00}}]},
    H.BONUS_HARM: {"$and": [{"kind": "bonus_request"}, {"$or": [{"$gt": {"rg_n": 0}}, {"se": True}]}]},
    H.BONUS_HEAVY: {"$and": [{"kind": "bonus_request"}, {"$gte": {"loss": 700.00}}]},
    H.WD_ABOVE: {"$gt": {"wd_amount": 2000.00}},
    H.WD_KYC: {"$and": [{"$gte": {"wd_amount": 2000.00}}, {"$neq": {"kyc": "verified"}}]},
    H.WD_LARGE: {"$gt": {"wd_amount": 10000.00}},
    H.WD_PENDING: {"$gt": {"wd_hours": 48}},
    H.FF_WITHIN: {"$and": [{"kind": "forfeiture_dispute"}, {"$lte": {"ff_winnings": 100.00}}, {"ff_deliberate": False}]},
    H.FF_ABOVE: {"$and": [{"kind": "forfeiture_dispute"}, {"$gt": {"ff_winnings": 100.00}}]},
    H.FF_DELIBERATE: {"$and": [{"kind": "forfeiture_dispute"}, {"ff_deliberate": True}]},
    H.FF_LARGE: {"$and": [{"kind": "forfeiture_dispute"}, {"$gt": {"ff_winnings": 1000.00}}]},
    H.MGR_VIP: {"$and": [_MANAGER, {"$gte": {"vip": 3}}]},
    H.MGR_REGULAR: {"$and": [_MANAGER, {"$lt": {"vip": 3}}]},
    H.EXEC_DIRECTOR: _contains("director"),
    H.EXEC_FINANCE: _contains("finance"),
    H.COMPLAINT_REQUEST: {"kind": "complaint"},
    H.COMPLAINT_ALREADY: {"status": "complaint"},
    H.RG_SELF_EXCLUDED: {"se": True},
    H.RG_HARM: {"$gt": {"rg_n": 0}},
}
CATCH_ALL = "__catch_all__"


class _NoHost:
    def get_action(self, name: str) -> Any:
        raise KeyError(name)


class HandwrittenDurable:
    """One ruleset, built once; `decide(case_dict)` per case."""

    def __init__(self, via_actions: bool = False) -> None:
        self._fired: set[str] = set()
        self.via_actions = via_actions
        definition: dict[str, dict] = {}
        for rule_id, condition in CONDITIONS.items():
            definition[rule_id] = {"all": [{"m": {"$and": [EX, condition]}}], "run": self._action(rule_id)}
        definition[CATCH_ALL] = {"all": [{"m": EX}], "run": lambda c: None}
        self._ruleset = durable_engine.Ruleset(f"handwritten-nl-{id(self)}", _NoHost(), definition)
        self._sids = itertools.count(1)

    def _action(self, rule_id: str):
        def run(closure: Any) -> None:
            self._fired.add(rule_id)

        return run

    @staticmethod
    def fact(case: dict[str, Any]) -> dict[str, Any]:
        player, request = case["player"], case["request"]
        fact: dict[str, Any] = {
            "_e": 1,
            "kind": request["kind"],
            "status": case.get("status", "open"),
            "vip": player.get("vip_level", 0),
            "loss": player.get("net_loss_30d", 0),
            "rg_n": len(player.get("rg_markers") or ()),
            "kyc": player.get("kyc", "none"),
            "se": player.get("self_excluded", False),
            "asked": request.get("asked_for") or [],
        }
        amount = request.get("amount")
        if amount is not None:
            fact["amount"] = amount
        withdrawal = request.get("withdrawal")
        if withdrawal is not None:
            fact["wd_amount"] = withdrawal["amount"]
            fact["wd_hours"] = withdrawal.get("pending_hours", 0)
        forfeiture = request.get("forfeiture")
        if forfeiture is not None:
            fact["ff_winnings"] = forfeiture["winnings"]
            deliberate = forfeiture.get("deliberate")
            if deliberate is not None:
                fact["ff_deliberate"] = deliberate
        return fact

    def fired_rules(self, case: dict[str, Any]) -> set[str]:
        fact = self.fact(case)
        sid = str(next(self._sids))
        fact["sid"] = sid
        ruleset = self._ruleset
        if self.via_actions:
            self._fired = fired = set()
            try:
                state = ruleset.assert_fact(fact)
                ruleset.do_actions(state, _complete)
            finally:
                ruleset.delete_state(sid)
            fired.discard(CATCH_ALL)
            return fired
        fired = set()
        try:
            state = ruleset.assert_fact(fact)
            handle = ruleset._handle
            result = durable_rules_engine.start_action_for_state(handle, state)
            messages = result[1] if result else None
            while messages:
                fired.add(messages[2:messages.index('"', 2)])  # messages is {"<rule id>":{...}}
                messages = durable_rules_engine.complete_and_start_action(handle, state)
        finally:
            ruleset.delete_state(sid)
        fired.discard(CATCH_ALL)
        return fired

    def decide(self, case: dict[str, Any]) -> dict[str, Any]:
        return H.combine(case, self.fired_rules(case))


def _complete(error: Any, state: Any) -> None:
    if error:
        raise RuntimeError(f"durable_rules action failed: {error}")
