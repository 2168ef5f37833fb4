"""The pure-Python backend: each policy's rules as generated Python (closures as the fallback).

The meaning of every node is `escalator.runtime.semantics` (the reference); this
backend only makes it fast: each policy's rules become one generated straight-line
function (`codegen`), with fast paths for typed fields and gates that skip rules which
cannot fire; closures (`build`, `Plan`) are the readable fallback and serve single
conditions elsewhere (time rules, property checks). It runs everywhere (Python 3.13 included).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Callable

from escalator.language import fields as F
from escalator.language.ir import AllOf, AnyOf, Compare, CompiledPolicy, Condition, Const, Not, Rule
from escalator.runtime import semantics as S
from escalator.runtime.backends.codegen import Fired, Gates, compile_fired, compile_truth

log = logging.getLogger("escalator")

Predicate = Callable[[dict[str, Any]], S.Truth]


def build(node: Condition) -> Predicate:
    """Compile a condition to a predicate over a flat view (same answers as `semantics.evaluate`):
    generated code (`codegen.compile_truth`), else closures."""
    try:
        return compile_truth(node)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return closures(node)


def closures(node: Condition) -> Predicate:
    """A condition as a tree of closures (the readable form of `build`)."""
    if isinstance(node, AllOf):
        parts = [closures(item) for item in node.items]
        all_of = S.all_of
        return lambda view: all_of(part(view) for part in parts)
    if isinstance(node, AnyOf):
        parts = [closures(item) for item in node.items]
        any_of = S.any_of
        return lambda view: any_of(part(view) for part in parts)
    if isinstance(node, Not):
        inner = closures(node.item)
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
# cannot be true, and the rule waits behind a presence gate (`codegen.Gates`).


def _always_true(view: dict[str, Any]) -> bool | None:
    return True


def _predicate(condition: Condition | None) -> Predicate:
    return _always_true if condition is None else closures(condition)


class Plan:
    """One policy's rules as closures, bucketed by gate: the readable form, and the fallback
    where the generated function cannot be compiled (`codegen.compile_fired`)."""

    __slots__ = ("ungated", "equality", "presence")

    def __init__(self, rules: Iterable[Rule]):
        gates = Gates(tuple(rules))
        self.ungated = [(index, _predicate(c)) for index, c in gates.ungated]
        self.equality = [(path, {v: tuple((i, _predicate(c)) for i, c in bucket) for v, bucket in table.items()})
                         for path, table in gates.equality.items()]
        self.presence = [(path, tuple((i, _predicate(c)) for i, c in bucket)) for path, bucket in gates.presence.items()]

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
        for path, presence in self.presence:
            if get(path) is not None:
                for index, predicate in presence:
                    if predicate(view) is True:
                        out.append(index)
        out.sort()
        return out


def plan_for(policy: CompiledPolicy, generate: bool = True) -> Fired:
    """A policy's `fired`: the generated straight-line function, else (or if it cannot be
    compiled: a policy too deep for Python's parser, say) the closures of `Plan`."""
    if generate:
        try:
            return compile_fired(policy)
        except (SyntaxError, RecursionError, MemoryError, ValueError) as error:
            log.warning("policy %r: rules run as closures (generated code failed: %s)", policy.id, error)
    return Plan(policy.rules).fired


class CompiledBackend:
    name = "compiled"

    def __init__(self, policies: dict[str, CompiledPolicy], generate: bool = True):
        self._plans = {policy_id: plan_for(policy, generate) for policy_id, policy in policies.items()}

    def fired(self, policy: CompiledPolicy, view: dict[str, Any]) -> list[int]:
        return self._plans[policy.id](view)

    def close(self) -> None:
        self._plans = {}
