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
- The engine holds at most 1024 sessions; each evaluation uses a fresh sid and
  deletes its state afterwards (in every ruleset of the policy).
- Rulesets are not registered in durable's global host: each Engine owns its
  own rulesets (unique names) and deletes them on close, so engines with
  different policies never see each other's rules.
- The C engine is not re-entrant: one lock serialises every call into it.
- A rule whose `$or` holds on several branches fires once per branch, so the
  fired rule indices are de-duplicated.
- It coerces types ("5" == 5, true == 1) and compares numbers as doubles, so the
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

Speed (see benchmarks/README.md): the fact carries only the fields some rule of
the policy reads (`rete.FactPlan`), and the fired rules are read straight off
the C engine's action queue (`start_action_for_state` /
`complete_and_start_action`) instead of going through `Ruleset.do_actions`,
which builds a Closure, re-parses the whole message and writes the state back
for every fired rule.
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
    """One policy's rulesets in the C engine, and how to read a case into them."""

    __slots__ = ("plan", "layout", "handles", "guards")

    def __init__(self, policy: CompiledPolicy, plan: Layout):
        self.plan = FactPlan(policy)
        self.layout = plan
        self.guards = {guard(number): 1 for number in range(plan.groups)}
        self.handles: list[int] = []
        for definition in plan.rulesets:
            name = f"escalator-{policy.id}-{next(_names)}"
            self.handles.append(durable_rules_engine.create_ruleset(name, json.dumps(definition, ensure_ascii=False)))


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
        self._sids = itertools.count(1)
        handles: list[int] = []
        # an Engine dropped without close() must not leave its rulesets in the C engine
        self._release = weakref.finalize(self, _delete_rulesets, handles)
        with _LOCK:
            for policy_id, policy in policies.items():
                compiled = _Policy(policy, layouts[policy_id])
                handles.extend(compiled.handles)
                self._policies[policy_id] = compiled

    def fired(self, policy: CompiledPolicy, view: dict[str, Any]) -> list[int]:
        compiled = self._policies[policy.id]
        fact = compiled.plan.fact(view)
        fact["_e"] = 1
        fact.update(compiled.guards)
        fired: set[int] = set()  # a rule whose $or holds on several branches fires once per branch
        with _LOCK:
            sid = str(next(self._sids))
            fact["sid"] = sid
            text = json.dumps(fact, ensure_ascii=False)
            for handle, names in zip(compiled.handles, compiled.layout.rule_index):
                _run(handle, text, sid, names, fired)
        return sorted(fired)

    def close(self) -> None:
        self._release()  # runs _delete_rulesets once, here or when the backend is collected
        self._policies = {}


def _run(handle: int, fact: str, sid: str, names: dict[str, int | None], fired: set[int]) -> None:
    """Assert the fact into one ruleset, collect the rules it fires, delete the state."""
    result = durable_rules_engine.assert_fact(handle, fact)
    state = result[1]
    try:
        started = durable_rules_engine.start_action_for_state(handle, state)
        messages = started[1] if started else None
        while messages:
            index = names[_action_name(messages)]
            if index is not None:
                fired.add(index)
            messages = durable_rules_engine.complete_and_start_action(handle, state)
    finally:
        durable_rules_engine.delete_state(handle, sid)


def _delete_rulesets(handles: list[int]) -> None:
    with _LOCK:
        for handle in handles:
            try:
                durable_rules_engine.delete_ruleset(handle)
            except Exception:  # already gone: nothing to free
                pass
