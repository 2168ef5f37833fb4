"""Which case fields a policy may mask in the decision log (`log: {mask: [...]}`).

The log stores a masked field as a keyed hash, and `escalator replay` re-decides the
stored (masked) case. So a field may be masked only when no decision can depend on it:
free-text identifiers (player.id, attributes.*) that no rule condition reads and no
reason quotes. Then the replayed decision is byte for byte the logged one, and the
decision JSON never carries the clear value. Enumerations, numbers and the fields the
engine itself reads (case_id, jurisdiction, handled_by, ...) are never maskable.
"""

from __future__ import annotations

from collections.abc import Iterable

from escalator.errors import Location, Problem
from escalator.language.fields import ATTRIBUTES_PREFIX, CASE_FIELDS, STRING
from escalator.language.ir import Compare, Field, Rule, walk

ENGINE_FIELDS = frozenset({"case_id", "jurisdiction", "handled_by"})
MASKABLE = tuple(
    path for path, info in CASE_FIELDS.items()
    if info.kind == STRING and info.values is None and path not in ENGINE_FIELDS
)


def is_maskable(path: str) -> bool:
    """A known free-text case field, or an operator attribute."""
    return path in MASKABLE or (path.startswith(ATTRIBUTES_PREFIX) and len(path) > len(ATTRIBUTES_PREFIX))


def fields_read(rule: Rule) -> set[str]:
    """Every case field a rule's condition compares or its reason quotes."""
    read: set[str] = set()
    for node in walk(rule.condition):
        if isinstance(node, Compare):
            read.add(node.left.path)
            if isinstance(node.right, Field):
                read.add(node.right.path)
    read.update(part.field.path for part in rule.reason if part.field is not None)
    return read


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def mask_problems(mask: dict[str, Location], rules: Iterable[Rule]) -> list[Problem]:
    """Problems with a policy's mask list: unknown or unmaskable paths, paths a rule reads."""
    problems = []
    rules = list(rules)
    for path, where in mask.items():
        if not is_maskable(path):
            problems.append(Problem(
                f"log.mask: {path!r} cannot be masked", where, code="E-MASK",
                hint=f"maskable fields: {', '.join(MASKABLE)}, attributes.NAME"))
            continue
        readers = sorted(rule.id for rule in rules if any(_overlap(path, f) for f in fields_read(rule)))
        if readers:
            problems.append(Problem(
                f"log.mask: {path!r} is read by rule {', '.join(readers)}: a masked field would make the "
                "logged decision impossible to replay", where, code="E-MASK",
                hint="mask only fields no rule condition or reason uses"))
    return problems
