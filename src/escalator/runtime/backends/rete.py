"""The IR as durable_rules JSON: facts and ruleset definitions, without importing durable_rules.

Kept apart from the runtime (`backends/durable.py`) so that `escalator compile` can show
the ruleset a policy compiles to on any Python, including 3.13 where durable_rules does
not import. The fact layout and each workaround are described in `backends/durable.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

from escalator.language import fields as F
from escalator.language.ir import (
    AllOf, AnyOf, Compare, CompiledPolicy, Condition, Const, Field, Rule, push_negations, walk,
)
from escalator.runtime.semantics import kind_of

SCALE = 100  # numbers travel as integer hundredths: exact in the engine's doubles
CATCH_ALL = "__catch_all__"
_TAG = {F.NUMBER: "n", F.STRING: "s", F.BOOLEAN: "b", F.DATETIME: "n"}
_string: Callable[[str], str] = encode_basestring  # a JSON string, as json.dumps(ensure_ascii=False) writes it


def _encode(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return int(number_text(value))
    raise TypeError(f"cannot encode {value!r} for durable_rules")


# -- facts --------------------------------------------------------------------
# A fact is flat: `{"player.vip_level": 300, "request.asked_for": [...], ...}`. durable_rules
# names a nested property by its dotted path (state.c constructObject hashes "parent.child"),
# so a flat key with the same dotted name is the same property to every rule, and the C
# engine skips building the nested objects. The fact is written as JSON text directly.


def number_text(value: Any) -> str:
    """A number as integer hundredths (the JSON durable_rules reads): exact in its doubles."""
    scaled = value * SCALE
    whole = int(scaled)
    if whole != scaled:
        raise ValueError(f"{value} has more than two decimal places")
    return str(whole)


def whole_number_text(value: Any) -> str:
    """`number_text` for a field the model makes a whole number (vip_level, pending_hours, ...): faster."""
    whole = int(value)
    if whole != value:
        return number_text(value)
    return str(whole * SCALE)


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Decimal):
        return number_text(value)
    raise TypeError(f"cannot encode {value!r} for durable_rules")


def _attribute_text(out: list[str], key: str, value: Any) -> None:
    """An attribute (its kind only known at run time) under kind-tagged keys: `brand#s`, `score#n`."""
    if value is F.PRESENT:
        out.append(f',{_string(key + "#e")}:1')
        return
    if isinstance(value, tuple):
        texts = [_string(item) for item in value if isinstance(item, str)]
        out.append(f',{_string(key + "#l")}:[{",".join(texts)}],{_string(key + "#l:n")}:{len(texts)}')
        if value:
            out.append(f',{_string(key + "#e")}:1')
        return
    out.append(f',{_string(key + "#e")}:1,{_string(f"{key}#{_TAG[kind_of(value)]}")}:{_value_text(value)}')  # type: ignore[index]


FactText = Callable[[dict[str, Any]], str]
WHOLE = "whole"  # a number field the model makes an int: its own, faster encoding


class FactPlan:
    """Which view paths a policy's rules read, and how a case's view becomes its fact's JSON."""

    __slots__ = ("paths", "max_properties", "text")

    def __init__(self, policy: CompiledPolicy):
        paths: set[str] = set()
        for rule in policy.rules:
            for node in walk(rule.condition):
                if isinstance(node, Compare):
                    paths.add(node.left.path)
                    if isinstance(node.right, Field):
                        paths.add(node.right.path)
        # only the attributes the rules name go in: a case's other attributes cannot matter,
        # and the fact stays within durable_rules' 254 properties whatever the case holds
        self.paths = [(path, WHOLE if info.integer else info.kind)
                      for path in sorted(paths) if (info := F.field_info(path)) is not None]
        # at most three keys per field (an attribute: `#e` and `#l` + `#l:n`), and `_e`, `sid`, `id`
        self.max_properties = 3 * len(self.paths) + 3
        self.text = _fact_text(self.paths)


def _fact_text(paths: list[tuple[str, str]]) -> FactText:
    """Write and compile the function view -> the fact's properties as JSON text (`,"k":v` each).

    Straight-line code, one block per field the rules read; the paths and keys are passed in
    as constants (`P3`, `K3`), so no text from a policy is ever part of the compiled source.
    """
    namespace: dict[str, Any] = {"S": _string, "N": number_text, "W": whole_number_text, "A": _attribute_text}
    lines = ["def fact_text(view):", "    get = view.get", "    out = []", "    append = out.append"]
    for i, (path, kind) in enumerate(paths):
        namespace[f"P{i}"] = path
        namespace[f"K{i}"] = f",{_string(path)}:"
        lines += [f"    v = get(P{i})", "    if v is not None:"]
        if kind == F.ANY:
            lines.append(f"        A(out, P{i}, v)")
        elif kind == F.OBJECT:
            namespace[f"K{i}"] = f",{_string(path + '#e')}:1"
            lines.append(f"        append(K{i})")
        elif kind == F.STRINGS:
            namespace[f"C{i}"] = f"],{_string(path + ':n')}:"
            lines.append(f"        append(K{i} + '[' + ','.join(map(S, v)) + C{i} + str(len(v)))")
        elif kind == F.BOOLEAN:
            lines.append(f"        append(K{i} + ('true' if v else 'false'))")
        elif kind == F.STRING:
            lines.append(f"        append(K{i} + S(v))")
        elif kind == WHOLE:
            lines.append(f"        append(K{i} + W(v))")
        else:  # NUMBER, DATETIME (epoch seconds)
            lines.append(f"        append(K{i} + N(v))")
    lines.append("    return ''.join(out)")
    source = "\n".join(lines)
    exec(compile(source, "<durable fact text>", "exec"), namespace)  # our own code, written from the field table
    function: FactText = namespace["fact_text"]
    function.__doc__ = source
    return function


# -- conditions ---------------------------------------------------------------
# translate() answers None for a comparison that can never be true (the reference
# says false or unknown for every case); all/any simplify around it, so the ruleset
# holds no dead branches.

Json = dict[str, Any]
_RELATIONS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_ORDERINGS = ("<", "<=", ">", ">=")


def _relation(op: str, key: str, value: Any) -> Json:
    if op == "==":
        return {key: value}
    return {_RELATIONS[op]: {key: value}}


def _key(field: Field, kind: str | None) -> str:
    """The fact key for a field; attributes get the tag of the kind being compared."""
    if field.kind == F.ANY:
        return f"{field.path}#{_TAG[kind or F.STRING]}"
    return field.path


def _all(items: list[Json | None]) -> Json | None:
    if any(item is None for item in items):
        return None
    kept = [item for item in items if item is not None]
    return kept[0] if len(kept) == 1 else {"$and": kept}


def _any(items: list[Json | None]) -> Json | None:
    kept = [item for item in items if item is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else {"$or": kept}


def translate(node: Condition) -> Json | None:
    """An IR condition without `Not` -> durable_rules JSON (None: never true)."""
    if isinstance(node, AllOf):
        return _all([translate(item) for item in node.items])
    if isinstance(node, AnyOf):
        return _any([translate(item) for item in node.items])
    assert isinstance(node, Compare), "push_negations() first"
    return _compare(node)


def _present(field: Field) -> Json:
    """True when the field has any value (an empty list included): what a comparison needs."""
    if field.kind == F.ANY:
        return {"$or": [{"$ex": {f"{field.path}#e": 1}}, {"$ex": {f"{field.path}#l:n": 1}}]}
    if field.kind == F.STRINGS:
        return {"$ex": {f"{field.path}:n": 1}}
    return {"$ex": {field.path: 1}}


def _compare(node: Compare) -> Json | None:
    field, op, right = node.left, node.op, node.right
    path = field.path
    if op in ("exists", "not exists"):
        if field.kind == F.STRINGS:
            has: Json = {"$gt": {f"{path}:n": 0}}
            none: Json = {"$or": [{"$nex": {f"{path}:n": 1}}, {f"{path}:n": 0}]}
        elif field.kind in (F.OBJECT, F.ANY):
            has, none = {f"{path}#e": 1}, {"$nex": {f"{path}#e": 1}}
        else:
            has, none = {"$ex": {path: 1}}, {"$nex": {path: 1}}
        return has if op == "exists" else none
    if isinstance(right, Field):
        return _compare_fields(op, field, right)
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
        # x in [a, b] is x == a or x == b; not in is its negation: x != a and x != b
        if op == "in":
            return _any([_relation("==", _key(field, kind_of(v)), _encode(v)) for v in items])
        if not items:
            return _present(field)
        return _all([_relation("!=", _key(field, kind_of(v)), _encode(v)) for v in items])
    assert not isinstance(right.value, tuple)
    return _relation(op, _key(field, kind_of(right.value)), _encode(right.value))


def _compare_fields(op: str, left: Field, right: Field) -> Json | None:
    """Two fields: holds only when BOTH are present with the same kind.

    durable_rules evaluates `{"$gt": {"a": {"$m": "b"}}}` with an absent `b` by reading an
    uninitialised result (events.c isAlphaMatch ignores ERR_PROPERTY_NOT_FOUND), so the
    answer depended on whatever an earlier comparison left on the C stack. An `$ex` on the
    right-hand key, placed before the comparison in the same `$and` chain, means the
    comparison node is only reached when both keys are in the fact.
    """
    kinds = [k for k in (left.kind, right.kind) if k != F.ANY]
    if kinds:
        candidates = [kinds[0]] if all(k == kinds[0] for k in kinds) else []
    else:
        candidates = [F.NUMBER, F.STRING, F.BOOLEAN]
    branches: list[Json | None] = []
    for kind in candidates:
        if kind not in _TAG or (op in _ORDERINGS and kind not in (F.NUMBER, F.DATETIME)):
            continue  # lists and objects compare with nothing; only numbers are ordered
        other = _key(right, kind)
        branches.append({"$and": [{"$ex": {other: 1}}, _relation(op, _key(left, kind), {"$m": other})]})
    return _any(branches)


# -- layout: rules -> rulesets that stay inside durable_rules' fixed limits -----
# The C engine walks its alpha network with a stack of 64 nodes (events.c handleAlpha,
# MAX_STACK_SIZE) and returns ERR_MAX_STACK_SIZE (303) half-way through asserting a fact
# when more matching nodes are pending; deleting that half-built state then frees an
# invalid pointer and aborts the process. A node keeps its children in a hash table of
# 512 slots (rules.h NEXT_BUCKET_LENGTH) probed linearly: when it is exactly full, every
# lookup loops forever (the hang). A node links at most 256 rule ends (BETA_LIST_LENGTH),
# a ruleset holds at most 4096 rules (rete.c MAX_ACTIONS), a fact at most 254 properties
# (state.h MAX_OBJECT_PROPERTIES).
# So the rules are split into groups, each behind its own guard key (`_g0`, `_g1`, ...;
# every fact carries them all), and the groups into rulesets; `alpha_stack` computes the
# deepest stack a fact can need (every comparison assumed true), mirroring how rete.c
# shares and links nodes, and every ruleset is checked against it when it is built.

STACK_LIMIT = 64  # events.c MAX_STACK_SIZE
STACK_BUDGET = 48  # what a ruleset may need at most (a margin below the limit)
GROUP_BUDGET = 28  # what one group may need: STACK_BUDGET - MAX_GROUPS - margin
MAX_GROUPS = 16  # guard keys per ruleset (and per fact)
MAX_GROUP_RULES = 64  # rule ends per group, so no node links more than 256
MAX_FACT_PROPERTIES = 200  # state.h MAX_OBJECT_PROPERTIES is 255, sid and id included
MAX_DNF_TERMS = 64  # a rule too wide for one group is split into at most this many rules


class DurableUnsupported(Exception):
    """durable_rules cannot run this policy faithfully; the compiled backend must."""


class _Alpha:
    """An alpha node as rete.c builds it: shared children by expression, links to `$or` ends."""

    __slots__ = ("children", "unshared", "links")

    def __init__(self) -> None:
        self.children: dict[str, _Alpha] = {}
        self.unshared: list[_Alpha] = []
        self.links: list[_Alpha] = []


def _add(parent: _Alpha, expression: Json) -> _Alpha:
    """Add one expression under `parent` (rete.c createAlpha); returns the node it ends on."""
    ((op, body),) = expression.items()
    if op == "$and":
        node = parent
        for item in body:
            node = _add(node, item)
        return node
    if op == "$or":
        end = _Alpha()  # createForwardAlpha: a fresh node each time, never shared
        for item in body:
            _add(parent, item).links.append(end)
        return end
    if op in ("$iany", "$iall"):  # findAlpha never shares array nodes
        fresh = _Alpha()
        parent.unshared.append(fresh)
        return fresh
    key = json.dumps(expression, sort_keys=True)
    shared = parent.children.get(key)
    if shared is None:
        shared = parent.children[key] = _Alpha()
    return shared


def alpha_stack(root: _Alpha) -> int:
    """The deepest alpha stack handleAlpha can need below `root`, if every node matches.

    Popping a node pushes all its matching children; they are popped last-first, so while
    the first one's subtree is walked its siblings wait below it.
    """
    memo: dict[int, int] = {}

    def need(node: _Alpha) -> int:
        known = memo.get(id(node))
        if known is not None:
            return known
        children = [*node.children.values(), *node.unshared, *node.links]
        result = 0
        if children:
            result = len(children) - 1 + max(1, max(need(child) for child in children))
        memo[id(node)] = result
        return result

    return need(root)


def _group_need(entries: list[Json]) -> int:
    group = _Alpha()
    for entry in entries:
        _add(group, entry)
    return alpha_stack(group)


def _dnf(node: Condition, limit: int) -> list[Condition] | None:
    """`node` (no Not) as a disjunction of conjunctions, or None if it has more than `limit` terms."""
    if isinstance(node, AnyOf):
        terms: list[Condition] = []
        for item in node.items:
            part = _dnf(item, limit)
            if part is None or len(terms) + len(part) > limit:
                return None
            terms.extend(part)
        return terms
    if isinstance(node, AllOf):
        product: list[tuple[Condition, ...]] = [()]
        for item in node.items:
            part = _dnf(item, limit)
            if part is None or len(product) * len(part) > limit:
                return None
            product = [done + (term,) for done in product for term in part]
        return [AllOf(tuple(item for term in terms for item in _conjuncts(term))) for terms in product]
    return [node]


def _conjuncts(node: Condition) -> tuple[Condition, ...]:
    return node.items if isinstance(node, AllOf) else (node,)


def _branches(node: Condition) -> list[Condition]:
    if isinstance(node, AnyOf):
        return [branch for item in node.items for branch in _branches(item)]
    return [node]


def _pieces(rule: Rule) -> list[Json]:
    """A rule as durable rules: one per top-level `or` branch (the rule fires if any does);
    a branch too wide for one group is split further into its disjunctive normal form."""
    pieces: list[Json] = []
    for branch in _branches(push_negations(rule.condition)):
        expression = translate(branch)
        if expression is None:
            continue
        if _group_need([expression]) <= GROUP_BUDGET:
            pieces.append(expression)
            continue
        terms = _dnf(branch, MAX_DNF_TERMS) or []
        translated = [t for t in (translate(term) for term in terms) if t is not None]
        if not terms or any(_group_need([t]) > GROUP_BUDGET for t in translated):
            raise DurableUnsupported(
                f"rule {rule.id!r} is too wide for durable_rules, whose alpha stack holds {STACK_LIMIT} "
                "nodes: split its `any` branches into separate rules, or use the compiled backend")
        pieces.extend(translated)
    return pieces


@dataclass(frozen=True)
class Layout:
    """A policy as durable_rules rulesets: definitions (rule name -> rule) and what each name means."""

    rulesets: tuple[dict[str, Json], ...]
    rule_index: tuple[dict[str, int | None], ...]  # durable rule name -> IR rule index (None: catch-all)
    groups: int  # guard keys `_g0` .. every fact carries
    stack: int  # the deepest alpha stack any ruleset can need


def guard(group: int) -> str:
    return f"_g{group}"


def layout(policy: CompiledPolicy) -> Layout:
    """Split a policy's rules into rulesets within durable_rules' limits, or DurableUnsupported."""
    plan = FactPlan(policy)
    if plan.max_properties + MAX_GROUPS > MAX_FACT_PROPERTIES:
        raise DurableUnsupported(
            f"the rules read {plan.max_properties} fact properties; durable_rules holds at most 254 per fact")
    entries: list[tuple[str, int, Json]] = []
    for rule in policy.rules:
        for number, expression in enumerate(_pieces(rule)):
            name = f"r{rule.index}" if number == 0 else f"r{rule.index}.{number}"
            entries.append((name, rule.index, expression))
    groups: list[list[tuple[str, int, Json]]] = []
    current: list[tuple[str, int, Json]] = []
    tree = _Alpha()  # the current group's alpha network, grown one entry at a time (not rebuilt per entry)
    for entry in entries:
        _add(tree, entry[2])
        if current and (len(current) >= MAX_GROUP_RULES or alpha_stack(tree) > GROUP_BUDGET):
            groups.append(current)  # the entry does not fit: it opens the next group
            current, tree = [], _Alpha()
            _add(tree, entry[2])
        current.append(entry)
    if current or not groups:
        groups.append(current)
    rulesets: list[dict[str, Json]] = []
    indices: list[dict[str, int | None]] = []
    deepest = 0
    for start in range(0, len(groups), MAX_GROUPS):
        definition: dict[str, Json] = {}
        index: dict[str, int | None] = {}
        root = _Alpha()
        for number, group in enumerate(groups[start:start + MAX_GROUPS]):
            for name, rule_index, expression in group:
                pattern = {"$and": [{"$ex": {guard(number): 1}}, expression]}
                definition[name] = {"all": [{"m": pattern}]}
                index[name] = rule_index
                _add(root, pattern)
        definition[CATCH_ALL] = {"all": [{"m": {"$ex": {"_e": 1}}}]}
        index[CATCH_ALL] = None
        _add(root, {"$ex": {"_e": 1}})
        need = alpha_stack(root)
        if need > STACK_BUDGET:  # pragma: no cover - the packing above keeps every ruleset inside
            raise DurableUnsupported(f"a ruleset would need an alpha stack of {need} (durable_rules has 64)")
        deepest = max(deepest, need)
        rulesets.append(definition)
        indices.append(index)
    return Layout(tuple(rulesets), tuple(indices), min(MAX_GROUPS, len(groups)), deepest)


def ruleset_json(policy: CompiledPolicy) -> str:
    """What `escalator compile` prints: the rulesets with rule names mapped to rule ids.

    One ruleset is `escalator:ID`; a policy split into several shows `escalator:ID/1`, ...;
    a policy durable_rules cannot run shows why under `refused`.
    """
    try:
        plan = layout(policy)
    except DurableUnsupported as refusal:
        return json.dumps({f"escalator:{policy.id}": {"refused": str(refusal)}}, indent=2, ensure_ascii=False)
    ids = {f"r{rule.index}": rule.id for rule in policy.rules}

    def shown(name: str) -> str:
        base, _, piece = name.partition(".")
        rule_id = ids.get(base, name)
        return f"{rule_id}#{int(piece) + 1}" if piece else rule_id

    out: dict[str, Json] = {}
    for number, definition in enumerate(plan.rulesets, 1):
        key = f"escalator:{policy.id}" if len(plan.rulesets) == 1 else f"escalator:{policy.id}/{number}"
        out[key] = {shown(name): rule for name, rule in definition.items()}
    return json.dumps(out, indent=2, ensure_ascii=False)
