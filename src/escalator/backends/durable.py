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
import json
import threading
from decimal import Decimal
from typing import Any

import durable_rules_engine
from durable import engine as durable_engine

from .. import fields as F
from ..ir import AllOf, AnyOf, Compare, CompiledPolicy, Condition, Const, Field, push_negations
from .compiled import kind_of

SCALE = 100  # numbers travel as integer hundredths: exact in the engine's doubles
_LOCK = threading.Lock()  # the C engine is not safe for concurrent use
_names = itertools.count()
CATCH_ALL = "__catch_all__"
_TAG = {F.NUMBER: "n", F.STRING: "s", F.BOOLEAN: "b", F.DATETIME: "n"}


class _NoHost:
    """durable.engine.Ruleset only asks its host for named actions; ours are callables."""

    def get_action(self, name: str) -> Any:
        raise KeyError(name)


def _scaled(value: Decimal) -> int:
    scaled = value * SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than two decimal places")
    return int(scaled)


def _encode(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return _scaled(value)
    raise TypeError(f"cannot encode {value!r} for durable_rules")


# -- facts --------------------------------------------------------------------


def build_fact(view: dict[str, Any]) -> dict[str, Any]:
    """The flat view as a nested durable_rules fact (see the module docstring for keys)."""
    fact: dict[str, Any] = {}
    for path, value in view.items():
        *parents, leaf = path.split(".")
        node = fact
        for part in parents:
            node = node.setdefault(part, {})
        info = F.field_info(path)
        kind = info.kind if info else F.ANY
        if kind == F.ANY:
            _put_attribute(node, leaf, value)
        elif kind == F.OBJECT:
            node[f"{leaf}#e"] = 1
            node.setdefault(leaf, {})
        elif kind == F.STRINGS:
            node[leaf] = list(value)
            node[f"{leaf}:n"] = len(value)
        else:
            node[leaf] = _encode(value)
    return fact


def _put_attribute(node: dict[str, Any], leaf: str, value: Any) -> None:
    if value is F.PRESENT:
        node[f"{leaf}#e"] = 1
        node.setdefault(leaf, {})
        return
    if isinstance(value, tuple):
        texts = [item for item in value if isinstance(item, str)]
        node[f"{leaf}#l"] = texts
        node[f"{leaf}#l:n"] = len(texts)
        if value:
            node[f"{leaf}#e"] = 1
        return
    node[f"{leaf}#e"] = 1
    node[f"{leaf}#{_TAG[kind_of(value)]}"] = _encode(value)  # type: ignore[index]


# -- conditions ---------------------------------------------------------------

_NEVER = {"$ex": {"_never": 1}}
_RELATIONS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


def _relation(op: str, key: str, value: Any) -> dict:
    if op == "==":
        return {key: value}
    return {_RELATIONS[op]: {key: value}}


def _key(field: Field, kind: str | None) -> str:
    """The fact key for a field; attributes get the tag of the kind being compared."""
    if field.kind == F.ANY:
        return f"{field.path}#{_TAG[kind or F.STRING]}"
    return field.path


def translate(node: Condition) -> dict:
    """An IR condition without `Not` -> durable_rules JSON."""
    if isinstance(node, AllOf):
        return {"$and": [translate(item) for item in node.items]}
    if isinstance(node, AnyOf):
        return {"$or": [translate(item) for item in node.items]}
    return _compare(node)


def _compare(node: Compare) -> dict:
    field, op, right = node.left, node.op, node.right
    path = field.path
    if op in ("exists", "not exists"):
        if field.kind == F.STRINGS:
            has = {"$gt": {f"{path}:n": 0}}
            none = {"$or": [{"$nex": {f"{path}:n": 1}}, {f"{path}:n": 0}]}
        elif field.kind in (F.OBJECT, F.ANY):
            has, none = {f"{path}#e": 1}, {"$nex": {f"{path}#e": 1}}
        else:
            has, none = {"$ex": {path: 1}}, {"$nex": {path: 1}}
        return has if op == "exists" else none
    if isinstance(right, Field):
        kind = right.kind if field.kind == F.ANY else field.kind
        other = _key(right, field.kind if right.kind == F.ANY else right.kind)
        return _relation(op, _key(field, kind), {"$m": other})
    assert isinstance(right, Const)
    if op in ("contains", "not contains"):
        key = f"{path}#l" if field.kind == F.ANY else path
        value = _encode(right.value)
        if op == "contains":
            return {"$iany": {key: {"$i": value}}}
        return {"$or": [{"$iall": {key: {"$neq": {"$i": value}}}}, {f"{key}:n": 0}]}
    if op in ("in", "not in"):
        items = right.value
        assert isinstance(items, tuple)
        kind = kind_of(items[0]) if items else F.STRING
        key = _key(field, kind)
        if op == "in":
            return {"$or": [{key: _encode(v)} for v in items]} if items else _NEVER
        return {"$and": [{"$neq": {key: _encode(v)}} for v in items]} if items else {"$ex": {key: 1}}
    kind = kind_of(right.value)
    return _relation(op, _key(field, kind), _encode(right.value))


def ruleset_definition(policy: CompiledPolicy) -> dict[str, dict]:
    """The durable_rules ruleset (JSON-able, without actions) for a compiled policy."""
    definition: dict[str, dict] = {}
    for rule in policy.rules:
        condition = translate(push_negations(rule.condition))
        definition[f"r{rule.index}"] = {"all": [{"m": {"$and": [{"$ex": {"_e": 1}}, condition]}}]}
    definition[CATCH_ALL] = {"all": [{"m": {"$ex": {"_e": 1}}}]}
    return definition


def ruleset_json(policy: CompiledPolicy) -> str:
    """What `escalator compile` prints: the ruleset with rule names mapped to rule ids."""
    names = {f"r{rule.index}": rule.id for rule in policy.rules}
    definition = {names.get(k, k): v for k, v in ruleset_definition(policy).items()}
    return json.dumps({f"escalator:{policy.id}": definition}, indent=2, ensure_ascii=False)


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
