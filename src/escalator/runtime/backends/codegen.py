"""A policy's rules as one straight-line Python function, written from the IR.

The compiled backend's fast form: `write_fired(policy)` writes the source of
`fired(view) -> [rule index, ...]`, which `compile_fired` compiles once at load.
The meaning is `escalator.runtime.semantics` (three-valued logic); the source is
built from two boolean expressions per condition node,

    is_true(all)  = every item is_true     is_false(all) = some item is_false
    is_true(any)  = some item is_true      is_false(any) = every item is_false
    is_true(not)  = is_false(item)         is_false(not) = is_true(item)

and "unknown" is neither, so a rule fires when `is_true(condition)`: Kleene logic
with Python's own short cuts, no call per node. Each field is read from the view
once per block; a comparison several rules of a block share is computed once.

No text of a policy becomes code: field paths, constants and operator names are
bound as names (`P0`, `K3`, ...) in the function's globals; the source holds only
names this module makes up, rule indices (ints) and a fixed set of operators.
Rules are gated as in `compiled.Plan` (an `==` on a string or boolean field picks a
bucket; an ordinary comparison on a field waits for its value).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from escalator.language import fields as F
from escalator.language.ir import AllOf, AnyOf, Compare, CompiledPolicy, comparisons, Condition, Const, Not, Rule
from escalator.runtime import semantics as S

Fired = Callable[[dict[str, Any]], list[int]]

_PYTHON_OP = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
"""The comparisons whose typed form is the Python operator (see `compiled.leaf`)."""


def conjuncts(node: Condition) -> tuple[Condition, ...]:
    return node.items if isinstance(node, AllOf) else (node,)


def equality_gate(item: Condition) -> tuple[str, Any] | None:
    """`field == constant` on a typed string or boolean field: (path, constant), else None."""
    if (isinstance(item, Compare) and item.op == "==" and isinstance(item.right, Const)
            and item.left.kind in (F.STRING, F.BOOLEAN) and isinstance(item.right.value, (str, bool))
            and S.kind_of(item.right.value) == item.left.kind):
        return item.left.path, item.right.value
    return None


def presence_gate(item: Condition) -> str | None:
    """An ordinary comparison of a typed field with a constant: unknown without a value."""
    if isinstance(item, Compare) and item.op in S.COMPARISONS and item.left.kind != F.ANY and isinstance(item.right, Const):
        return item.left.path
    return None


def rest_of(items: tuple[Condition, ...], skip: int) -> Condition | None:
    """The conjunction without item `skip` (None: nothing is left)."""
    rest = items[:skip] + items[skip + 1:]
    if not rest:
        return None
    return rest[0] if len(rest) == 1 else AllOf(rest)


class Gates:
    """A policy's rules bucketed by gate: (index, condition still to check; None = true)."""

    def __init__(self, rules: tuple[Rule, ...]):
        self.ungated: list[tuple[int, Condition | None]] = []
        self.equality: dict[str, dict[Any, list[tuple[int, Condition | None]]]] = {}
        self.presence: dict[str, list[tuple[int, Condition | None]]] = {}
        for rule in rules:
            items = conjuncts(rule.condition)
            gate = next(((position, g) for position, item in enumerate(items)
                         if (g := equality_gate(item)) is not None), None)
            if gate is not None:
                position, (path, value) = gate
                self.equality.setdefault(path, {}).setdefault(value, []).append((rule.index, rest_of(items, position)))
                continue
            present = next((p for item in items if (p := presence_gate(item)) is not None), None)
            if present is not None:
                self.presence.setdefault(present, []).append((rule.index, rule.condition))
            else:
                self.ungated.append((rule.index, rule.condition))


def _paths(node: Compare) -> list[str]:
    return [node.left.path] + ([node.right.path] if node.right is not None and not isinstance(node.right, Const) else [])


class _Writer:
    """Source lines plus the table of names they use (constants never appear as text)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"compare": S.compare}
        self._consts: dict[tuple[str, str], str] = {}
        self._fields: dict[str, str] = {}  # path -> local name
        self._shared: dict[Compare, str] = {}  # leaf -> local holding its truth value (current block)
        self._count = 0

    def const(self, value: Any, prefix: str = "K") -> str:
        key = (type(value).__name__, repr(value))
        name = self._consts.get(key)
        if name is None:
            name = self._consts[key] = f"{prefix}{len(self._consts)}"
            self.names[name] = value
        return name

    def field(self, path: str) -> str:
        name = self._fields.get(path)
        if name is None:
            name = self._fields[path] = f"v{len(self._fields)}"
        return name

    def load(self, paths: list[str], indent: str, loaded: set[str]) -> None:
        for path in dict.fromkeys(paths):
            if path not in loaded:
                loaded.add(path)
                self.lines.append(f"{indent}{self.field(path)} = get({self.const(path, 'P')})")

    # -- one comparison ---------------------------------------------------------------------
    def _fast(self, node: Compare) -> tuple[str, str] | None:
        """(is_true, is_false) of a comparison with a typed fast form, else None (see `compiled.leaf`)."""
        v = self.field(node.left.path)
        op, right = node.op, node.right
        if op == "exists" or op == "not exists":
            present, absent = f"({v} is not None and {v} != ())", f"({v} is None or {v} == ())"
            return (present, absent) if op == "exists" else (absent, present)
        if not isinstance(right, Const) or node.left.kind == F.ANY:
            return None
        c = self.const(right.value)
        if op in _PYTHON_OP:
            test = f"{v} {_PYTHON_OP[op]} {c}"
            return f"({v} is not None and {test})", f"({v} is not None and not ({test}))"
        if node.left.kind == F.STRINGS and op in ("contains", "not contains"):
            has, lacks = f"({v} is not None and {c} in {v})", f"({v} is not None and {c} not in {v})"
            return (has, lacks) if op == "contains" else (lacks, has)
        if (op in ("in", "not in") and node.left.kind in S.SCALARS and isinstance(right.value, tuple)
                and all(S.kind_of(item) == node.left.kind for item in right.value)):
            inside, outside = f"({v} is not None and {v} in {c})", f"({v} is not None and {v} not in {c})"
            return (inside, outside) if op == "in" else (outside, inside)
        return None

    def _truth(self, node: Compare) -> str:
        """An expression whose value is the comparison's truth value (True, False or None)."""
        v = self.field(node.left.path)
        fast = self._fast(node)
        if fast is not None:  # present: the typed test; absent: unknown (exists is never unknown)
            return fast[0] if node.op in ("exists", "not exists") else f"(None if {v} is None else {fast[0]})"
        right = node.right
        if right is None:
            other = "None"
        elif isinstance(right, Const):
            other = self.const(right.value)
        else:
            other = self.field(right.path)
        return f"compare({self.const(node.op, 'O')}, {v}, {other})"

    def share(self, leaves: list[Compare], indent: str) -> None:
        """Compute once, at the start of a block, the comparisons several of its rules make."""
        self._shared = {}
        counts: dict[Compare, int] = {}
        for leaf in leaves:
            counts[leaf] = counts.get(leaf, 0) + 1
        for leaf, count in counts.items():
            if count > 1:
                name = f"s{self._count}"
                self._count += 1
                self.lines.append(f"{indent}{name} = {self._truth(leaf)}")
                self._shared[leaf] = name

    # -- conditions -------------------------------------------------------------------------
    def is_true(self, node: Condition) -> str:
        return self._bool(node, True)

    def is_false(self, node: Condition) -> str:
        return self._bool(node, False)

    def _bool(self, node: Condition, want: bool) -> str:
        if isinstance(node, Not):
            return self._bool(node.item, not want)
        if isinstance(node, (AllOf, AnyOf)):
            if not node.items:  # all of nothing is true, any of nothing false
                return "True" if isinstance(node, AllOf) == want else "False"
            joiner = " and " if isinstance(node, AllOf) == want else " or "
            return "(" + joiner.join(self._bool(item, want) for item in node.items) + ")"
        shared = self._shared.get(node)
        if shared is not None:
            return f"({shared} is {want})"
        fast = self._fast(node)
        if fast is not None:
            return fast[0] if want else fast[1]
        return f"({self._truth(node)} is {want})"

    def rules(self, rules: list[tuple[int, Condition | None]], indent: str, loaded: set[str]) -> None:
        leaves = [leaf for _, condition in rules if condition is not None for leaf in comparisons(condition)]
        self.load([p for leaf in leaves for p in _paths(leaf)], indent, loaded)
        self.share(leaves, indent)
        for index, condition in rules:
            if condition is None:
                self.lines.append(f"{indent}out.append({int(index)})")
            else:
                self.lines.append(f"{indent}if {self.is_true(condition)}:")
                self.lines.append(f"{indent}    out.append({int(index)})")
        self._shared = {}


def write_fired(policy: CompiledPolicy) -> tuple[str, dict[str, Any]]:
    """The source of `fired(view)` for a policy and the names it reads (its globals)."""
    gates = Gates(policy.rules)
    w = _Writer()
    w.lines += ["def fired(view):", "    get = view.get", "    out = []"]
    top: set[str] = set()
    w.load(list(gates.equality) + list(gates.presence), "    ", top)
    w.rules(gates.ungated, "    ", top)
    for path, table in gates.equality.items():
        g = w.field(path)
        kind = "bool" if any(isinstance(value, bool) for value in table) else "str"
        w.lines.append(f"    if {g}.__class__ is {kind}:")
        keyword = "if"
        for value, bucket in table.items():
            test = f"{g} is {value}" if isinstance(value, bool) else f"{g} == {w.const(value)}"
            w.lines.append(f"        {keyword} {test}:")
            w.rules(bucket, "            ", set(top))
            keyword = "elif"
    for path, bucket in gates.presence.items():
        w.lines.append(f"    if {w.field(path)} is not None:")
        w.rules(bucket, "        ", set(top))
    w.lines += ["    out.sort()", "    return out"]
    return "\n".join(w.lines) + "\n", w.names


def compile_truth(node: Condition) -> Callable[[dict[str, Any]], S.Truth]:
    """One condition as a generated function of a flat view: True, False or None (unknown)."""
    w = _Writer()
    w.lines += ["def truth(view):", "    get = view.get"]
    w.load([p for leaf in comparisons(node) for p in _paths(leaf)], "    ", set())
    w.lines += [f"    if {w.is_true(node)}:", "        return True",
                f"    if {w.is_false(node)}:", "        return False", "    return None"]
    namespace: dict[str, Any] = dict(w.names)
    exec(compile("\n".join(w.lines) + "\n", "<condition>", "exec"), namespace)  # our own source, from the IR
    function: Callable[[dict[str, Any]], S.Truth] = namespace["truth"]
    return function


def compile_fired(policy: CompiledPolicy) -> Fired:
    """Write and compile a policy's `fired` (code escalator writes from the IR, never policy text)."""
    source, names = write_fired(policy)
    namespace: dict[str, Any] = dict(names)
    exec(compile(source, f"<rules of policy {policy.id!r}>", "exec"), namespace)  # our own source, from the IR
    function: Fired = namespace["fired"]
    function.__doc__ = source  # what was compiled, for a reader in a debugger
    return function
