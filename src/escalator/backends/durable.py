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
"""

from __future__ import annotations

import copy
import itertools
import threading
from typing import Any

import durable_rules_engine
from durable import engine as durable_engine

from ..ir import CompiledPolicy
from .rete import CATCH_ALL, build_fact, ruleset_definition, ruleset_json  # noqa: F401 (re-exported)

_LOCK = threading.Lock()  # the C engine is not safe for concurrent use
_names = itertools.count()


class _NoHost:
    """durable.engine.Ruleset only asks its host for named actions; ours are callables."""

    def get_action(self, name: str) -> Any:
        raise KeyError(name)


class DurableBackend:
    name = "durable"

    def __init__(self, policies: dict[str, CompiledPolicy]):
        self._rulesets: dict[str, Any] = {}
        self._fired: list[int] = []
        self._sids = itertools.count(1)
        with _LOCK:
            for policy_id, policy in policies.items():
                definition = copy.deepcopy(ruleset_definition(policy))
                for name, rule in definition.items():
                    rule["run"] = self._action(name)
                unique = f"escalator-{policy_id}-{next(_names)}"
                self._rulesets[policy_id] = durable_engine.Ruleset(unique, _NoHost(), definition)

    def _action(self, name: str):
        index = None if name == CATCH_ALL else int(name[1:])

        def run(closure: Any) -> None:
            if index is not None:
                self._fired.append(index)

        return run

    def fired(self, policy: CompiledPolicy, view: dict[str, Any]) -> list[int]:
        fact = build_fact(view)
        fact["_e"] = 1
        ruleset = self._rulesets[policy.id]
        errors: list[Any] = []
        with _LOCK:
            sid = str(next(self._sids))
            fact["sid"] = sid
            self._fired = []
            try:
                handle = ruleset.assert_fact(fact)
                ruleset.do_actions(handle, lambda error, state: errors.append(error) if error else None)
            finally:
                try:
                    ruleset.delete_state(sid)
                except Exception:  # the state may not exist if the assert itself failed
                    pass
            fired = sorted(set(self._fired))  # a rule whose $or matches twice fires twice
        if errors:
            raise RuntimeError(f"durable_rules action failed: {errors[0]}")
        return fired

    def close(self) -> None:
        with _LOCK:
            for ruleset in self._rulesets.values():
                try:
                    durable_rules_engine.delete_ruleset(ruleset._handle)
                except Exception:
                    pass
            self._rulesets = {}
