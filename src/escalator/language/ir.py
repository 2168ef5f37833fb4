"""The intermediate representation every policy compiles to.

Backends, the decision combiner, explanations, static checks and property checks
all read this one form; none of them sees YAML. Every node is immutable, so a
compiled policy can be shared between threads.

Conditions use three-valued logic: a comparison with a missing field is
unknown (None), `not unknown` is unknown, and a rule fires only when its
condition is true. De Morgan's laws hold, so negations can be pushed down to the
comparisons (which the durable backend needs: durable_rules has no `not`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from collections.abc import Iterator
from typing import Union

from escalator.errors import Location
from escalator.language.time import CalendarSpec, Duration

Scalar = Union[Decimal, str, bool]

NEGATED_OP = {
    "==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">",
    "in": "not in", "not in": "in", "contains": "not contains", "not contains": "contains",
    "exists": "not exists", "not exists": "exists",
}
FLIPPED_OP = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


@dataclass(frozen=True)
class Field:
    """A case field, by dotted path, with its kind (see `escalator.language.fields`)."""

    path: str
    kind: str

    def __str__(self) -> str:
        return self.path


@dataclass(frozen=True)
class Const:
    """A constant: a literal, or a parameter / tier limit resolved at compile time.

    `source` keeps the reference ("params.large_win", "tiers.agent.goodwill_bonus")
    so explanations can say where a threshold came from.
    """

    value: Scalar | tuple[Scalar, ...]
    source: str | None = None

    def __str__(self) -> str:
        return self.source or repr(self.value)


@dataclass(frozen=True)
class Compare:
    op: str
    left: Field
    right: Field | Const | None = None  # None for exists / not exists
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class AllOf:
    items: tuple["Condition", ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple["Condition", ...]


@dataclass(frozen=True)
class Not:
    item: "Condition"


Condition = Union[Compare, AllOf, AnyOf, Not]


def push_negations(node: Condition, negate: bool = False) -> Condition:
    """Rewrite so that `Not` appears nowhere (valid under three-valued logic)."""
    if isinstance(node, Not):
        return push_negations(node.item, not negate)
    if isinstance(node, AllOf):
        items = tuple(push_negations(i, negate) for i in node.items)
        return AnyOf(items) if negate else AllOf(items)
    if isinstance(node, AnyOf):
        items = tuple(push_negations(i, negate) for i in node.items)
        return AllOf(items) if negate else AnyOf(items)
    if negate:
        return Compare(NEGATED_OP[node.op], node.left, node.right, node.location)
    return node


def walk(node: Condition) -> Iterator[Condition]:
    """Every node of a condition, depth first."""
    yield node
    if isinstance(node, (AllOf, AnyOf)):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Not):
        yield from walk(node.item)


def comparisons(node: Condition) -> list[Compare]:
    """The comparisons of a condition, left to right (its leaves)."""
    return [item for item in walk(node) if isinstance(item, Compare)]


@dataclass(frozen=True)
class Cap:
    action: str
    amount: Decimal
    source: str | None = None


@dataclass(frozen=True)
class Effects:
    require: str | None = None
    caps: tuple[Cap, ...] = ()
    deny: tuple[str, ...] = ()
    procedure: str | None = None
    forward: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplatePart:
    """Literal text, or a placeholder to fill from the case (a field) or the policy (a const)."""

    text: str = ""
    field: Field | None = None
    const: Const | None = None


@dataclass(frozen=True)
class Rule:
    id: str  # "<pack>.<local id>"
    pack: str
    description: str
    priority: int
    condition: Condition
    effects: Effects
    reason: tuple[TemplatePart, ...]
    index: int  # position in the compiled policy (policy order)
    location: Location | None = field(default=None, compare=False)
    translations: tuple[tuple[str, tuple[TemplatePart, ...]], ...] = ()
    """The reason in other locales, by locale; `reason` is the English text and the fallback."""

    def templates(self) -> tuple[tuple[str, tuple[TemplatePart, ...]], ...]:
        """Every text of the reason by locale, English first."""
        return (("en", self.reason),) + self.translations

    def reason_for(self, locale: str) -> tuple[TemplatePart, ...]:
        """The reason in a locale; English when the pack gives no text in it."""
        for name, template in self.translations:
            if name == locale:
                return template
        return self.reason


@dataclass(frozen=True)
class Tier:
    id: str
    name: str
    level: int
    authority: tuple[tuple[str, Decimal], ...]
    fallback: str
    player_reachable: bool
    order: int  # position in the policy's tier list (tie-breaker)
    calendar: str | None = None  # the policy calendar of its on-duty hours; None: availability unknown
    names: tuple[tuple[str, str], ...] = ()  # the display name in other locales; `name` is the English one

    def name_in(self, locale: str) -> str:
        """The display name in a locale (the English `name` when none is given)."""
        for name_locale, text in self.names:
            if name_locale == locale:
                return text
        return self.name

    def limit(self, action: str) -> Decimal:
        """The tier's own cap for an action; an action it has no entry for is 0."""
        for name, amount in self.authority:
            if name == action:
                return amount
        return Decimal("0.00")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class Sla:
    acknowledge: Duration | None = None
    resolve: Duration | None = None
    pause_in: tuple[str, ...] = ()  # statuses during which the clock stops


@dataclass(frozen=True)
class Expectation:
    """What an invariant claims about every decision it covers; None or () = no claim."""

    handler: str | None = None
    handler_in: tuple[str, ...] | None = None
    handler_not: tuple[str, ...] = ()
    min_level: int | None = None
    locked: bool | None = None
    procedure: str | None = None  # "complaint"; `procedure: null` is no_procedure
    no_procedure: bool = False
    authority: tuple[tuple[str, Decimal], ...] = ()  # each action at most this amount
    flags: tuple[str, ...] = ()  # the decision has at least these
    forward: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()  # these rules fire
    not_reasons: tuple[str, ...] = ()  # these rules do not fire


@dataclass(frozen=True)
class Invariant:
    """A policy's own claim about its decisions (`invariants:`), checked by `escalator check`."""

    id: str
    description: str
    condition: Condition | None  # the cases it covers (`when`); None: every case
    expect: Expectation
    location: Location | None = None


@dataclass(frozen=True)
class OptOut:
    """`disable: PROPERTY` in `invariants:`: a built-in property this policy does not claim."""

    property: str
    fields: tuple[str, ...] | None = None  # monotone-in-money: only these money fields; None: all
    location: Location | None = None


@dataclass(frozen=True)
class CompiledPolicy:
    id: str
    version: str
    name: str
    jurisdictions: tuple[str, ...]
    effective_from: date | None
    effective_until: date | None
    tiers: tuple[Tier, ...]
    complaints_tier: str
    failsafe_tier: str  # who reviews a case whose evaluation failed (see combine.failsafe_decision)
    actions: tuple[str, ...]  # every action any tier names, in first-seen order
    params: tuple[Param, ...]
    sla: tuple[tuple[str, Sla], ...]
    rules: tuple[Rule, ...]
    packs: tuple[str, ...]
    calendars: tuple[CalendarSpec, ...] = ()
    working_calendar: str | None = None  # the calendar of working-time (wh, wd) durations
    digest: str = ""
    source: str | None = field(default=None, compare=False)
    locale: str = "en"  # the language of its messages (spec section 9)
    currency: str = "EUR"  # ISO 4217: every amount in the policy and its cases
    invariants: tuple[Invariant, ...] = ()  # checked by `escalator check`; not in the digest
    opt_outs: tuple[OptOut, ...] = ()
    log_mask: tuple[str, ...] = ()  # case fields the decision log stores as keyed hashes (never read by a rule)

    def tier(self, tier_id: str) -> Tier:
        for tier in self.tiers:
            if tier.id == tier_id:
                return tier
        raise KeyError(tier_id)

    @property
    def lowest_tier(self) -> Tier:
        """The least senior tier players can reach (the first listed on a tie)."""
        reachable = [t for t in self.tiers if t.player_reachable]
        return min(reachable, key=lambda t: (t.level, t.order))

    def sla_for(self, situation: str) -> Sla:
        for name, sla in self.sla:
            if name == situation:
                return sla
        return Sla()

    def calendar(self, name: str) -> CalendarSpec:
        for calendar in self.calendars:
            if calendar.name == name:
                return calendar
        raise KeyError(name)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def applies_on(self, day: date) -> bool:
        if self.effective_from is not None and day < self.effective_from:
            return False
        if self.effective_until is not None and day > self.effective_until:
            return False
        return True
