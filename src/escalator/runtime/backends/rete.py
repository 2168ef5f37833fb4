"""The IR as durable_rules JSON: facts and ruleset definitions, without importing durable_rules.

Kept apart from the runtime (`backends/durable.py`) so that `escalator compile` can show
the ruleset a policy compiles to on any Python, including 3.13 where durable_rules does
not import. The fact layout and each workaround are described in `backends/durable.py`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from escalator.language import fields as F
from escalator.language.ir import AllOf, AnyOf, Compare, CompiledPolicy, Condition, Const, Field, push_negations, walk
from escalator.runtime.semantics import kind_of

SCALE = 100  # numbers travel as integer hundredths: exact in the engine's doubles
CATCH_ALL = "__catch_all__"
_TAG = {F.NUMBER: "n", F.STRING: "s", F.BOOLEAN: "b", F.DATETIME: "n"}


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


class FactPlan:
    """Which view paths a policy's rules read, and where each goes in the fact."""

    __slots__ = ("fields", "attributes")

    def __init__(self, policy: CompiledPolicy):
        paths: set[str] = set()
        for rule in policy.rules:
            for node in walk(rule.condition):
                if isinstance(node, Compare):
                    paths.add(node.left.path)
                    if isinstance(node.right, Field):
                        paths.add(node.right.path)
        # attribute paths are only known per case: if any rule reads one, all attributes go in
        self.attributes = any(path.startswith(F.ATTRIBUTES_PREFIX) for path in paths)
        self.fields: list[tuple[str, tuple[str, ...], str, str, str, str]] = []
        for path in sorted(paths):
            info = F.field_info(path)
            if info is None or info.kind == F.ANY:
                continue
            *parents, leaf = path.split(".")
            self.fields.append((path, tuple(parents), leaf, info.kind, f"{leaf}#e", f"{leaf}:n"))

    def fact(self, view: dict[str, Any]) -> dict[str, Any]:
        """The case's flat view as a nested durable_rules fact, holding only what the rules read.

        Keys: a field's dotted path as nested objects; lists with a `:n` count beside them;
        objects with an `#e` presence mark; attributes under kind-tagged keys (`brand#s`).
        """
        fact: dict[str, Any] = {}
        get = view.get
        for path, parents, leaf, kind, exists_key, count_key in self.fields:
            value = get(path)
            if value is None:
                continue
            node = fact
            for part in parents:
                child = node.get(part)
                if child is None:
                    child = node[part] = {}
                node = child
            if kind == F.OBJECT:
                node[exists_key] = 1
                node.setdefault(leaf, {})
            elif kind == F.STRINGS:
                node[leaf] = list(value)
                node[count_key] = len(value)
            else:
                node[leaf] = _encode(value)
        if self.attributes:
            for path, value in view.items():
                if path.startswith(F.ATTRIBUTES_PREFIX):
                    *attribute_parents, leaf = path.split(".")
                    node = fact
                    for part in attribute_parents:
                        node = node.setdefault(part, {})
                    _put_attribute(node, leaf, value)
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


def _relation(op: str, key: str, value: Any) -> dict[str, Any]:
    if op == "==":
        return {key: value}
    return {_RELATIONS[op]: {key: value}}


def _key(field: Field, kind: str | None) -> str:
    """The fact key for a field; attributes get the tag of the kind being compared."""
    if field.kind == F.ANY:
        return f"{field.path}#{_TAG[kind or F.STRING]}"
    return field.path


def translate(node: Condition) -> dict[str, Any]:
    """An IR condition without `Not` -> durable_rules JSON."""
    if isinstance(node, AllOf):
        return {"$and": [translate(item) for item in node.items]}
    if isinstance(node, AnyOf):
        return {"$or": [translate(item) for item in node.items]}
    assert isinstance(node, Compare), "translate() takes a condition without Not (push_negations)"
    return _compare(node)


def _compare(node: Compare) -> dict[str, Any]:
    field, op, right = node.left, node.op, node.right
    path = field.path
    if op in ("exists", "not exists"):
        has: dict[str, Any]
        none: dict[str, Any]
        if field.kind == F.STRINGS:
            has = {"$gt": {f"{path}:n": 0}}
            none = {"$or": [{"$nex": {f"{path}:n": 1}}, {f"{path}:n": 0}]}
        elif field.kind in (F.OBJECT, F.ANY):
            has, none = {f"{path}#e": 1}, {"$nex": {f"{path}#e": 1}}
        else:
            has, none = {"$ex": {path: 1}}, {"$nex": {path: 1}}
        return has if op == "exists" else none
    kind: str | None
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


def ruleset_definition(policy: CompiledPolicy) -> dict[str, dict[str, Any]]:
    """The durable_rules ruleset (JSON-able, without actions) for a compiled policy."""
    definition: dict[str, dict[str, Any]] = {}
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
