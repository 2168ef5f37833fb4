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
  deletes its state afterwards.
- Rulesets are not registered in durable's global host: each Engine owns its
  own rulesets (unique names) and deletes them on close, so engines with
  different policies never see each other's rules.
- The C engine is not re-entrant: one lock serialises every call into it.
- A rule whose `$or` holds on several branches fires once per branch, so the
  fired rule indices are de-duplicated.
- It coerces types ("5" == 5, true == 1) and compares numbers as doubles, so the
  fact holds money as integer cents, and attribute values (whose kind is only
  known at run time) under kind-tagged keys (`brand#s`, `score#n`).

Speed (see benchmarks/README.md): the fact carries only the fields some rule of
the policy reads (`rete.FactPlan`), and the fired rules are read straight off
the C engine's action queue (`start_action_for_state` /
`complete_and_start_action`) instead of going through `Ruleset.do_actions`,
which builds a Closure, re-parses the whole message and writes the state back
for every fired rule.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import weakref
from typing import Any

import durable_rules_engine
from durable import engine as durable_engine

from escalator.language.ir import CompiledPolicy
from escalator.runtime.backends.rete import CATCH_ALL, FactPlan, ruleset_definition

_LOCK = threading.Lock()  # the C engine is not safe for concurrent use
_names = itertools.count()


class _NoHost:
    """durable.engine.Ruleset only asks its host for named actions; ours are callables."""

    def get_action(self, name: str) -> Any:
        raise KeyError(name)


def _action_name(messages: str) -> str:
    """The rule name a queued action belongs to: messages is `{"<name>":{...}}`."""
    if messages.startswith('{"'):
        end = messages.find('"', 2)
        if end > 2:
            return messages[2:end]
    return str(next(iter(json.loads(messages))))


class DurableBackend:
    name = "durable"

    def __init__(self, policies: dict[str, CompiledPolicy]):
        self._rulesets: dict[str, Any] = {}
        self._plans: dict[str, FactPlan] = {}
        self._indices: dict[str, dict[str, int | None]] = {}
        self._sids = itertools.count(1)
        with _LOCK:
            for policy_id, policy in policies.items():
                definition = copy.deepcopy(ruleset_definition(policy))
                for name, rule in definition.items():
                    rule["run"] = _unused_action
                unique = f"escalator-{policy_id}-{next(_names)}"
                self._rulesets[policy_id] = durable_engine.Ruleset(unique, _NoHost(), definition)
                self._plans[policy_id] = FactPlan(policy)
                self._indices[policy_id] = {
                    name: (None if name == CATCH_ALL else int(name[1:])) for name in definition
                }
        # an Engine dropped without close() must not leave its rulesets in the C engine
        handles = [ruleset._handle for ruleset in self._rulesets.values()]
        self._release = weakref.finalize(self, _delete_rulesets, handles)

    def fired(self, policy: CompiledPolicy, view: dict[str, Any]) -> list[int]:
        fact = self._plans[policy.id].fact(view)
        fact["_e"] = 1
        ruleset = self._rulesets[policy.id]
        indices = self._indices[policy.id]
        fired: set[int] = set()  # a rule whose $or holds on several branches fires once per branch
        with _LOCK:
            sid = str(next(self._sids))
            fact["sid"] = sid
            try:
                state = ruleset.assert_fact(fact)
                handle = ruleset._handle
                result = durable_rules_engine.start_action_for_state(handle, state)
                messages = result[1] if result else None
                while messages:
                    index = indices[_action_name(messages)]
                    if index is not None:
                        fired.add(index)
                    messages = durable_rules_engine.complete_and_start_action(handle, state)
            finally:
                try:
                    ruleset.delete_state(sid)
                except Exception:  # the state may not exist if the assert itself failed
                    pass
        return sorted(fired)

    def close(self) -> None:
        self._release()  # runs _delete_rulesets once, here or when the backend is collected
        self._rulesets = {}


def _delete_rulesets(handles: list[int]) -> None:
    with _LOCK:
        for handle in handles:
            try:
                durable_rules_engine.delete_ruleset(handle)
            except Exception:  # already gone: nothing to free
                pass


def _unused_action(closure: Any) -> None:
    """Ruleset() wants an action per rule; fired rules are read off the queue instead."""
