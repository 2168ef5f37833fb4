"""The pure-Python backend: each condition becomes a tree of closures.

The meaning of every node is `escalator.runtime.semantics` (the reference); this
backend only makes it fast: closures, fast paths for typed fields and gates that skip
rules which cannot fire. It runs everywhere (Python 3.13 included).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Callable

from escalator.language import fields as F
from escalator.language.ir import AllOf, AnyOf, Compare, CompiledPolicy, Condition, Const, Not, Rule
from escalator.runtime import semantics as S

Predicate = Callable[[dict[str, Any]], S.Truth]


def build(node: Condition) -> Predicate:
    """Compile a condition to a predicate over a flat view (same answers as `semantics.evaluate`)."""
    if isinstance(node, AllOf):
        parts = [build(item) for item in node.items]
        all_of = S.all_of
        return lambda view: all_of(part(view) for part in parts)
    if isinstance(node, AnyOf):
        parts = [build(item) for item in node.items]
        any_of = S.any_of
        return lambda view: any_of(part(view) for part in parts)
    if isinstance(node, Not):
        inner = build(node.item)
        not_ = S.not_
        return lambda view: not_(inner(view))
    return _leaf(node)


def _leaf(node: Compare) -> Predicate:
    """A comparison as a closure. A typed field (not an attribute) compared with a constant
    always holds a value of the constant's kind (the loader checked), so where it is present
    `semantics.compare` reduces to the plain operator: those are the fast paths."""
    path, op, right = node.left.path, node.op, node.right
    compare = S.compare
    if op in ("exists", "not exists"):
        return lambda view: compare(op, view.get(path))
    if isinstance(right, Const):
        constant = right.value
        typed = node.left.kind != F.ANY
        if typed and op in S.COMPARISONS:
            plain = S.COMPARISONS[op]

            def fast(view: dict[str, Any]) -> S.Truth:
                value = view.get(path)
                return None if value is None else plain(value, constant)

            return fast
        if typed and node.left.kind == F.STRINGS and op in ("contains", "not contains"):
            # a list field always holds a tuple of strings
            if op == "contains":
                def contains(view: dict[str, Any]) -> S.Truth:
                    value = view.get(path)
                    return None if value is None else constant in value

                return contains

            def not_contains(view: dict[str, Any]) -> S.Truth:
                value = view.get(path)
                return None if value is None else constant not in value

            return not_contains
        return lambda view: compare(op, view.get(path), constant)
    assert right is not None
    other = right.path
    return lambda view: compare(op, view.get(path), view.get(other))


# -- gates: skip rules that cannot fire without evaluating them -----------------
# A rule whose condition is `field == constant and rest` (a string or boolean
# field, not an attribute) can only be true when the case's value is that
# constant: any other value makes the conjunct false, a missing one unknown. So
# rules are bucketed by such a gate and only the matching bucket is evaluated,
# with the gate itself dropped from the predicate. Same for a conjunct that is an
# ordinary comparison on a field: without a value it is unknown, so the rule
# cannot be true, and the rule waits behind a presence gate.

_GATE_KINDS = (F.STRING, F.BOOLEAN)


def _conjuncts(node: Condition) -> tuple[Condition, ...]:
    return node.items if isinstance(node, AllOf) else (node,)


def _equality_gate(item: Condition) -> tuple[str, Any] | None:
    if (isinstance(item, Compare) and item.op == "==" and isinstance(item.right, Const)
            and item.left.kind in _GATE_KINDS and isinstance(item.right.value, (str, bool))
            and S.kind_of(item.right.value) == item.left.kind):
        return item.left.path, item.right.value
    return None


def _presence_gate(item: Condition) -> str | None:
    if isinstance(item, Compare) and item.op in S.COMPARISONS and item.left.kind != F.ANY and isinstance(item.right, Const):
        return item.left.path
    return None


def _always_true(view: dict[str, Any]) -> bool | None:
    return True


def _rest(items: tuple[Condition, ...], skip: int) -> Predicate:
    rest = items[:skip] + items[skip + 1:]
    if not rest:
        return _always_true
    return build(rest[0] if len(rest) == 1 else AllOf(rest))


class _Plan:
    """One policy's rules, bucketed by gate."""

    __slots__ = ("ungated", "equality", "presence")

    def __init__(self, rules: Iterable[Rule]):
        self.ungated: list[tuple[int, Predicate]] = []
        equality: dict[str, dict[Any, list[tuple[int, Predicate]]]] = {}
        presence: dict[str, list[tuple[int, Predicate]]] = {}
        for rule in rules:
            items = _conjuncts(rule.condition)
            gated = False
            for position, item in enumerate(items):
                gate = _equality_gate(item)
                if gate is not None:
                    gate_path, value = gate
                    equality.setdefault(gate_path, {}).setdefault(value, []).append((rule.index, _rest(items, position)))
                    gated = True
                    break
            if not gated:
                for item in items:
                    present = _presence_gate(item)
                    if present is not None:
                        presence.setdefault(present, []).append((rule.index, build(rule.condition)))
                        gated = True
                        break
            if not gated:
                self.ungated.append((rule.index, build(rule.condition)))
        self.equality = [(path, {v: tuple(b) for v, b in table.items()}) for path, table in equality.items()]
        self.presence = [(path, tuple(bucket)) for path, bucket in presence.items()]

    def fired(self, view: dict[str, Any]) -> list[int]:
        out = [index for index, predicate in self.ungated if predicate(view) is True]
        get = view.get
        for path, table in self.equality:
            value = get(path)
            if value is None or value.__class__ not in (str, bool):
                continue
            bucket = table.get(value)
            if bucket:
                for index, predicate in bucket:
                    if predicate(view) is True:
                        out.append(index)
        for path, bucket in self.presence:
            if get(path) is not None:
                for index, predicate in bucket:
                    if predicate(view) is True:
                        out.append(index)
        out.sort()
        return out


class CompiledBackend:
    name = "compiled"

    def __init__(self, policies: dict[str, CompiledPolicy]):
        self._plans = {policy_id: _Plan(policy.rules) for policy_id, policy in policies.items()}

    def fired(self, policy: CompiledPolicy, view: dict[str, Any]) -> list[int]:
        return self._plans[policy.id].fired(view)

    def close(self) -> None:
        self._plans = {}
