"""The durable_rules backend: the IR compiled to Rete rulesets.

durable_rules 2.0.28 has sharp edges (pinned down by tests/test_durable_traps.py);
this module routes around each of them:

- An *event* (`post`) is consumed by the first matching rule, so the case is
  asserted as a *fact*, which fires every matching rule.
- A fact nothing matches raises MessageNotHandledException, and deleting such a
  state crashes the C engine. Every fact carries `_e: 1` and a catch-all rule
  matches it, so every state is "handled" and can be deleted safely.
- A rule made only of `$nex` spins forever, so every rule is `$and`-ed with
  `$ex _e`.
- The engine holds at most 1024 sessions, and creating and deleting one costs more
  than deciding a case; so each policy keeps ONE session (sid) for all its cases:
  every fact has the same id, is retracted by `{sid, id}` once its rules are read,
  and the state stays. Two traps come with it: a fact asserted again with an id the
  state still holds fires nothing (ERR_EVENT_OBSERVED), and a state whose action
  queue was left half-read fires nothing for its lease time. Any failure while a
  fact is in the engine therefore deletes the session and starts a new sid, and a
  run where the catch-all did not fire is a failure (the engine then fails closed).
- Rulesets are not registered in durable's global host: each Engine owns its
  own rulesets (unique names) and deletes them on close, so engines with
  different policies never see each other's rules.
- The C engine is not re-entrant: one lock serialises every call into it.
- A rule whose `$or` holds on several branches fires once per branch, so the
  fired rule indices are de-duplicated.
- It coerces types (true == 1; text against a number even reads an uninitialised
  length, so "5" == 5 holds or not from run to run) and compares numbers as doubles, so the
  fact holds money as integer cents, and attribute values (whose kind is only
  known at run time) under kind-tagged keys (`brand#s`, `score#n`).
- A comparison with another field (`{"$gt": {"a": {"$m": "b"}}}`) and `b` absent
  reads an uninitialised value in the C engine (events.c isAlphaMatch), so it held
  or not depending on what an earlier comparison left behind; `rete.translate`
  puts `$ex b` before every such comparison.
- Fixed limits (a 64-node alpha stack, 512-slot child tables, 256 rule ends per
  node, 4096 rules per ruleset, 254 properties per fact): beyond them the engine
  aborts the process or loops forever. `rete.layout` splits a policy into guarded
  groups and several rulesets that stay inside them, and refuses a policy it
  cannot fit (`DurableUnsupported`): `Engine(backend="durable")` then fails with
  the reason, `backend="auto"` decides that policy with the compiled backend.

Speed (see benchmarks/README.md): per case, one assert of a flat fact written as
JSON text by code compiled once per policy from the fields its rules read
(`rete.FactPlan`: dotted keys, which durable_rules reads as the nested properties
the rules name), the fired rules read straight off the C engine's action queue
(`start_action_for_state`, then `complete_and_start_action` per fired rule: the C
API has no call that returns them all; `Ruleset.do_actions` would also build a
Closure, re-parse the whole message and write the state back for every fired
rule), and one retract.
"""

from __future__ import annotations

import itertools
import json
import threading
import weakref
from typing import Any

import durable_rules_engine

from escalator.errors import EscalatorError
from escalator.language.ir import CompiledPolicy
from escalator.runtime.backends.rete import DurableUnsupported, FactPlan, Layout, guard, layout

_LOCK = threading.Lock()  # the C engine is not safe for concurrent use
_names = itertools.count()
_sids = itertools.count(1)
_RULES_OK = 0  # rules.h: the fact was taken (1: not handled, 2: an id already seen)
_FACT_ID = "case"  # every fact of a session has this id: retracting it needs nothing else


def _action_name(messages: str) -> str:
    """The rule name a queued action belongs to: messages is `{"<name>":{...}}`."""
    if messages.startswith('{"'):
        end = messages.find('"', 2)
        if end > 2:
            return messages[2:end]
    return str(next(iter(json.loads(messages))))


def plan(policies: dict[str, CompiledPolicy]) -> tuple[dict[str, Layout], dict[str, str]]:
    """Each policy's rulesets, and the policies durable_rules cannot run faithfully (with why)."""
    layouts: dict[str, Layout] = {}
    refused: dict[str, str] = {}
    for policy_id, policy in policies.items():
        try:
            layouts[policy_id] = layout(policy)
        except DurableUnsupported as refusal:
            refused[policy_id] = str(refusal)
    return layouts, refused


class _Policy:
    """One policy's rulesets in the C engine, their one session, and how to read a case into them."""

    __slots__ = ("plan", "layout", "handles", "head", "sid", "retraction", "live")

    def __init__(self, policy: CompiledPolicy, plan: Layout):
        self.plan = FactPlan(policy)
        self.layout = plan
        self.handles: list[int] = []
        for definition in plan.rulesets:
            name = f"escalator-{policy.id}-{next(_names)}"
            self.handles.append(durable_rules_engine.create_ruleset(name, json.dumps(definition, ensure_ascii=False)))
        self.live = False  # whether the session holds a state in the C engine
        self.new_session()

    def new_session(self) -> None:
        """A fresh sid: the fact's fixed part (guards, `_e`, sid, id) and the message that retracts it."""
        self.sid = str(next(_sids))
        guards = "".join(f',"{guard(number)}":1' for number in range(self.layout.groups))
        self.head = f'{{"sid":"{self.sid}","id":"{_FACT_ID}","_e":1{guards}'
        self.retraction = f'{{"sid":"{self.sid}","id":"{_FACT_ID}"}}'

    def end_session(self) -> None:
        """Delete the session's state in every ruleset (it has matched: the catch-all always fires)."""
        if self.live:
            self.live = False
            for handle in self.handles:
                try:
                    durable_rules_engine.delete_state(handle, self.sid)
                except Exception:  # never created in this ruleset, or already gone
                    pass


class DurableBackend:
    name = "durable"

    def __init__(self, policies: dict[str, CompiledPolicy], layouts: dict[str, Layout] | None = None):
        if layouts is None:
            layouts, refused = plan(policies)
        else:
            refused = {p: "no layout" for p in policies if p not in layouts}
        if refused:
            raise EscalatorError("the durable backend cannot run " + "; ".join(
                f"policy {policy_id!r}: {reason}" for policy_id, reason in sorted(refused.items())))
        self._policies: dict[str, _Policy] = {}
        compiled: list[_Policy] = []
        # an Engine dropped without close() must not leave its rulesets in the C engine
        self._release = weakref.finalize(self, _delete_rulesets, compiled)
        with _LOCK:
            for policy_id, policy in policies.items():
                part = _Policy(policy, layouts[policy_id])
                compiled.append(part)
                self._policies[policy_id] = part

    def fired(self, policy: CompiledPolicy, view: dict[str, Any]) -> list[int]:
        compiled = self._policies[policy.id]
        body = compiled.plan.text(view) + "}"
        fired: set[int] = set()  # a rule whose $or holds on several branches fires once per branch
        with _LOCK:
            text = compiled.head + body
            try:
                compiled.live = True
                for handle, names in zip(compiled.handles, compiled.layout.rule_index):
                    _run(handle, text, compiled.retraction, names, fired)
            except BaseException:
                # a half-read action queue or an unretracted fact would leak into the next case
                compiled.end_session()
                compiled.new_session()
                raise
        return sorted(fired)

    def close(self) -> None:
        self._release()  # runs _delete_rulesets once, here or when the backend is collected
        self._policies = {}


def _run(handle: int, fact: str, retraction: str, names: dict[str, int | None], fired: set[int]) -> None:
    """Assert the fact into one ruleset, collect the rules it fires, retract it (the state stays).

    The catch-all fires for every fact, so a run without it means the session is broken (its
    action queue held by an unfinished read, or a fact with this id not retracted: the C engine
    then answers ERR_EVENT_OBSERVED and fires nothing); raising makes `fired` renew the session.
    """
    result, state = durable_rules_engine.assert_fact(handle, fact)
    if result != _RULES_OK:
        raise RuntimeError(f"durable_rules did not take the case's fact (code {result})")
    started = durable_rules_engine.start_action_for_state(handle, state)
    messages = started[1] if started else None
    caught = False
    while messages:
        index = names[_action_name(messages)]
        if index is None:
            caught = True
        else:
            fired.add(index)
        messages = durable_rules_engine.complete_and_start_action(handle, state)
    durable_rules_engine.retract_fact(handle, retraction)
    if not caught:
        raise RuntimeError("durable_rules fired no catch-all for the case's fact: its session is broken")


def _delete_rulesets(policies: list[_Policy]) -> None:
    with _LOCK:
        for policy in policies:
            policy.end_session()  # deleteRuleset frees the state table, not what each state holds
            for handle in policy.handles:
                try:
                    durable_rules_engine.delete_ruleset(handle)
                except Exception:  # already gone: nothing to free
                    pass
