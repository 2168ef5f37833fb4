"""Static checks over policies and rule packs (`escalator validate`).

Two sources of findings, each with a stable code, file:line and a fix hint:

- compile errors (compiler.py / conditions.py): E-FIELD unknown case path,
  E-PARAM unknown or badly typed parameter, E-TYPE wrong-type comparison,
  E-TIER unknown tier, E-INTERNAL a rule that requires an internal tier,
  E-DUPLICATE duplicate rule id, and the rest of the compiler's E-* codes;
- checks over the compiled IR (this module):
  E-NEVER-FIRES      a rule whose condition can never be true (contradictory
                     bounds on one field, found by interval reasoning);
  W-SHADOWED         a rule whose condition implies another rule's, with the
                     same effects: it never changes a decision;
  W-TIER-MONOTONE    a more senior tier has a smaller non-zero cap for an
                     action than a junior one (0 means "this tier does not do
                     that action", e.g. a responsible-gambling team and goodwill);
  W-UNHANDLED-KIND   a request kind no rule handles (a rule handles kind K when
                     it reads the request and can fire with request.kind == K);
  W-UNUSED-PARAM     a parameter no enabled rule uses, or that no pack declares;
  W-REASON-TIER      a rule's reason names a tier (its id or display name): a
                     reason says what the rule found, routing is said once by
                     the decision's summary (spec section 9);
  W-UNTRANSLATED     a rule's reason has no text in the policy's locale, or in
                     a locale that other rules of its pack are written in: it
                     is shown in English there.

Errors always fail validation; warnings fail it only with --strict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from escalator.errors import Location, Problem, Severity, suggest
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from itertools import product
from typing import TYPE_CHECKING, Any

from escalator.language import fields as F
from escalator.language.locales import DEFAULT_LOCALE
from escalator.language.ir import (NEGATED_OP, AnyOf, Compare, CompiledPolicy, Condition, Const, Effects, Field, Rule,
                                   push_negations, walk)
from escalator.language.models.case import REQUEST_KINDS
from escalator.language.sources import PolicySource
from escalator.money import CENT

if TYPE_CHECKING:
    from escalator.language.loading import ResolvedPolicy, Source

CODES = {
    "E-NEVER-FIRES": "error", "W-SHADOWED": "warning", "W-TIER-MONOTONE": "warning",
    "W-UNHANDLED-KIND": "warning", "W-UNUSED-PARAM": "warning", "W-REASON-TIER": "warning",
    "W-UNTRANSLATED": "warning",
}


def finding(code: str, severity: Severity, message: str, location: Location | None = None,
            hint: str | None = None, rule: str | None = None) -> Problem:
    """A static-check result: a Problem with its code, severity and the rule it is about."""
    return Problem(message, location, code=code, hint=hint, severity=severity, rule=rule)


@dataclass
class Report:
    load_problems: list[Problem] = field(default_factory=list)
    findings: list[Problem] = field(default_factory=list)
    policies: dict[str, CompiledPolicy] = field(default_factory=dict)
    blocking: bool = False  # a policy could not be compiled at all: bad input, not a failed check

    @property
    def errors(self) -> list[Problem]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [f for f in self.findings if f.severity == "warning"]

    def codes(self) -> set[str]:
        return {f.code for f in self.findings if f.code is not None}

    @property
    def bad_input(self) -> bool:
        """Unreadable files or policies that do not compile (exit 2)."""
        return bool(self.load_problems or self.blocking)

    def failed(self, strict: bool = False) -> bool:
        return bool(self.errors or (strict and self.warnings))

    def add(self, problem: Problem, policy: str | None, blocking: bool = False) -> None:
        self.blocking = self.blocking or blocking
        for i, known in enumerate(self.findings):
            if (known.code, known.location, known.message) == (problem.code, problem.location, problem.message):
                if policy and policy not in known.policies:
                    self.findings[i] = replace(known, policies=known.policies + (policy,))
                return
        self.findings.append(replace(problem, policies=problem.policies + ((policy,) if policy else ())))


def validate_folders(policies: str | Path | PolicySource | None, rules: str | Path | None = None) -> Report:
    """Load, compile and check every policy; unreadable files are load problems (exit 2)."""
    from escalator.language.policyset import compile_all

    loaded = compile_all(policies, rules)
    report = Report(load_problems=list(loaded.load_problems))
    for policy_id, problems in loaded.problems.items():
        for p in problems:
            report.add(replace(p, code=p.code or "E-POLICY"), policy_id, blocking=p.is_error)
    for policy_id, compiled in loaded.compiled.items():
        report.policies[policy_id] = compiled
        for finding in check_policy(compiled, loaded.resolved[policy_id], loaded.packs):
            report.add(finding, policy_id)
    for p in loaded.overlaps:
        report.add(replace(p, code=p.code or "E-OVERLAP"), None, blocking=True)
    for p in loaded.warnings:
        report.add(p, None)
    return report


def check_policy(policy: CompiledPolicy, resolved: ResolvedPolicy | None = None,
                 packs: dict[str, Source] | None = None) -> list[Problem]:
    """The IR checks for one compiled policy (see the module docstring)."""
    forms = {rule.id: dnf(push_negations(rule.condition)) for rule in policy.rules}
    out = _never_fires(policy, forms)
    dead = {f.rule for f in out if f.rule is not None}
    out += _shadowed(policy, forms, dead)
    out += _tier_monotone(policy, resolved)
    out += _unhandled_kinds(policy, forms, resolved)
    out += _unused_params(policy, resolved, packs)
    out += _reason_names_tier(policy)
    out += _untranslated(policy)
    return out


def _never_fires(policy: CompiledPolicy, forms: dict[str, list[Conjunct] | None]) -> list[Problem]:
    out = []
    for rule in policy.rules:
        conjuncts = forms[rule.id]
        if conjuncts is not None and not any(satisfiable(c) for c in conjuncts):
            out.append(finding(
                "E-NEVER-FIRES", "error", f"rule {rule.id} can never fire: its condition contradicts itself",
                rule.location, "look for two bounds on one field that no value meets (e.g. > 100 and < 50, "
                "== a and in [b, c]); fix the comparison or delete the rule", rule=rule.id))
    return out


def _same_effects(a: Rule, b: Rule) -> bool:
    ea, eb = a.effects, b.effects
    if ea.require and a.priority != b.priority:
        return False
    return _effects_key(ea) == _effects_key(eb)


def _effects_key(e: Effects) -> tuple[object, ...]:
    return (e.require, sorted((c.action, c.amount) for c in e.caps), sorted(e.deny), e.procedure,
            sorted(e.forward), sorted(e.flags))


def _has_effect(rule: Rule) -> bool:
    e = rule.effects
    return any([e.require, e.caps, e.deny, e.procedure, e.forward, e.flags])


def _shadowed(policy: CompiledPolicy, forms: dict[str, list[Conjunct] | None], dead: set[str]) -> list[Problem]:
    out = []
    rules = [r for r in policy.rules if _has_effect(r) and r.id not in dead and forms[r.id] is not None]
    for a in rules:
        for b in rules:
            if a is b or not _same_effects(a, b):
                continue
            if implies(forms[a.id], forms[b.id]):
                if implies(forms[b.id], forms[a.id]) and a.index < b.index:
                    continue  # equivalent rules: report only the later one
                out.append(finding(
                    "W-SHADOWED", "warning",
                    f"rule {a.id} is shadowed by {b.id}: whenever it fires {b.id} fires too, with the same effects",
                    a.location, f"delete {a.id}, or give it an effect of its own (or a condition {b.id} does not cover)"))
                break
    return out


def _tier_monotone(policy: CompiledPolicy, resolved: ResolvedPolicy | None) -> list[Problem]:
    out = []
    reachable = [t for t in policy.tiers if t.player_reachable]
    for action in policy.actions:
        for senior in reachable:
            cap = senior.limit(action)
            if cap == 0:
                continue
            juniors = [t for t in reachable if t.level < senior.level and t.limit(action) > cap]
            if juniors:
                junior = max(juniors, key=lambda t: t.limit(action))
                where = resolved.tier_sources.get(senior.id) if resolved is not None else None
                out.append(finding(
                    "W-TIER-MONOTONE", "warning",
                    f"tier {senior.id} (level {senior.level}) may grant at most {cap} for {action}, less than "
                    f"{junior.id} (level {junior.level}, {junior.limit(action)})", where,
                    f"raise {senior.id}'s {action} authority to at least {junior.limit(action)}, or set it to 0.00 "
                    "if that tier never does this action"))
    return out


def tier_mentions(text: str, policy: CompiledPolicy) -> list[str]:
    """Ids of the tiers a text names, by id (`vip_manager` or "vip manager") or display name, as whole words."""
    low = text.lower()
    found = []
    for tier in policy.tiers:
        words = {tier.id, tier.id.replace("_", " "), tier.id.replace("_", "-"), tier.name.lower()}
        if any(re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", low) for w in words):
            found.append(tier.id)
    return found


def _reason_names_tier(policy: CompiledPolicy) -> list[Problem]:
    out = []
    for rule in policy.rules:
        for locale, template in rule.templates():
            # only the author's own words: a {placeholder} quotes the case or the policy, not a route
            text = " … ".join(part.text for part in template if part.field is None and part.const is None)
            named = tier_mentions(text, policy)
            if named:
                where = f" ({locale})" if locale != "en" else ""
                out.append(finding(
                    "W-REASON-TIER", "warning", f"rule {rule.id}: its reason{where} names tier "
                    f"{', '.join(named)}; another rule may make a different tier the handler",
                    rule.location, "say what the rule found (with the case's values), not where the case goes: "
                    "the decision's summary names the handler", rule=rule.id))
    return out


def _untranslated(policy: CompiledPolicy) -> list[Problem]:
    pack_locales: dict[str, set[str]] = {}
    for rule in policy.rules:
        pack_locales.setdefault(rule.pack, set()).update(locale for locale, _ in rule.translations)
    out = []
    for rule in policy.rules:
        if not rule.reason:
            continue  # no reason at all: its description stands in, in English
        wanted = pack_locales[rule.pack] | ({policy.locale} if policy.locale != DEFAULT_LOCALE else set())
        missing = sorted(wanted - {locale for locale, _ in rule.templates()})
        if missing:
            out.append(finding(
                "W-UNTRANSLATED", "warning", f"rule {rule.id}: its reason has no {', '.join(missing)} text; "
                f"it is shown in {DEFAULT_LOCALE} there", rule.location,
                "give the reason per locale: reason: {en: ..., " + ", ".join(f"{m}: ..." for m in missing) + "}",
                rule=rule.id))
    return out


def _reads_request(conjunct: Conjunct) -> bool:
    return any(atom.left.path.startswith("request.") for atom in conjunct)


def _unhandled_kinds(policy: CompiledPolicy, forms: dict[str, list[Conjunct] | None],
                     resolved: ResolvedPolicy | None) -> list[Problem]:
    kind_field = F.CASE_FIELDS["request.kind"]
    out = []
    for kind in REQUEST_KINDS:
        pin = Compare("==", Field(kind_field.path, kind_field.kind), Const(kind))
        handled = False
        for rule in policy.rules:
            conjuncts = forms[rule.id]
            if conjuncts is None or any(_reads_request(c) and satisfiable(c + (pin,)) for c in conjuncts):
                handled = True
                break
        if not handled:
            where = resolved.file.doc.location(("rules", "packs")) if resolved is not None else None
            out.append(finding(
                "W-UNHANDLED-KIND", "warning", f"no rule handles request kind {kind!r}", where,
                f"add a rule with `request.kind == {kind}` (a rule that only says `require: agent` is enough "
                "to document that the frontline handles it)"))
    return out


def _used_params(policy: CompiledPolicy) -> set[str]:
    used = set()
    sources = []
    for rule in policy.rules:
        sources += [n.right.source for n in walk(rule.condition) if isinstance(n, Compare) and isinstance(n.right, Const)]
        sources += [cap.source for cap in rule.effects.caps]
        sources += [part.const.source for part in rule.reason if part.const is not None]
    for source in sources:
        if source and source.startswith("params."):
            used.add(source[len("params."):])
    return used


def _unused_params(policy: CompiledPolicy, resolved: ResolvedPolicy | None,
                   packs: dict[str, Source] | None) -> list[Problem]:
    used = _used_params(policy)
    declared = {p.name for p in policy.params}
    out = []
    for param in policy.params:
        if param.name not in used:
            where = None
            if resolved is not None and param.name in resolved.param_sources:
                where = resolved.param_sources[param.name]
            elif packs:
                for name in policy.packs:
                    pack = packs.get(name)
                    if pack is not None and param.name in pack.model.params:
                        where = pack.doc.location(("params", param.name))
                        break
            out.append(finding(
                "W-UNUSED-PARAM", "warning", f"parameter {param.name!r} is not used by any enabled rule", where,
                "delete it, or use it in a rule (params." + param.name + ")"))
    if resolved is not None:
        for name, where in resolved.param_sources.items():
            if name not in declared:
                close = suggest(name, declared)
                out.append(finding(
                    "W-UNUSED-PARAM", "warning", f"parameter {name!r} is set but no selected rule pack declares it",
                    where, f"did you mean {close!r}?" if close else "delete it, or select the pack that uses it"))
    return out


# -- a small solver over conjunctions of comparisons ---------------------------------------------
# Every case number has at most two decimals (integers for counts, whole seconds for dates), so
# strict bounds become inclusive ones on that grid: `> 50 and < 50.01` is correctly empty.

Conjunct = tuple[Compare, ...]
MAX_TERMS = 256
ONE = Decimal(1)
_DOMAINS: dict[str, tuple[Decimal | None, Decimal | None, Decimal]] = {
    "player.vip_level": (Decimal(0), Decimal(5), ONE),
    "player.account_age_days": (Decimal(0), None, ONE),
    "request.amount": (Decimal(0), None, CENT),
    "request.withdrawal.amount": (Decimal(0), None, CENT),
    "request.withdrawal.pending_hours": (Decimal(0), Decimal(100_000), CENT),
    "request.forfeiture.winnings": (Decimal(0), None, CENT),
    "opened_at": (None, None, ONE),
}
_EXISTS = ("exists", "not exists")


def dnf(node: Condition) -> list[Conjunct] | None:
    """A negation-free condition as a list of conjunctions; None when it would be too large."""
    if isinstance(node, Compare):
        return [(node,)]
    parts = [dnf(item) for item in node.items]  # type: ignore[union-attr]
    if any(p is None for p in parts):
        return None
    if isinstance(node, AnyOf):
        terms = [t for p in parts for t in p]  # type: ignore[union-attr]
    else:
        size = 1
        for p in parts:
            size *= len(p)  # type: ignore[arg-type]
        if size > MAX_TERMS:
            return None
        terms = [tuple(x for t in combo for x in t) for combo in product(*parts)]  # type: ignore[arg-type]
    return terms if len(terms) <= MAX_TERMS else None


def _key(value: object) -> tuple[str, object]:
    return ("b" if isinstance(value, bool) else "n" if isinstance(value, Decimal) else "s", value)


class _State:
    def __init__(self, path: str, kind: str):
        self.path, self.kind = path, kind
        self.lo, self.hi, self.step = _DOMAINS.get(path, (None, None, CENT))
        self.allowed: set[tuple[str, object]] | None = None
        self.excluded: set[tuple[str, object]] = set()
        self.present = self.absent = self.nonempty = self.empty = False
        self.contains: set[object] = set()
        self.not_contains: set[object] = set()

    def bound(self, op: str, v: Decimal) -> None:
        s = self.step
        below = (v / s).to_integral_value(rounding=ROUND_FLOOR) * s  # floor and ceiling on the grid
        above = (v / s).to_integral_value(rounding=ROUND_CEILING) * s
        if op in (">", ">="):
            low = below + s if op == ">" else above
            self.lo = low if self.lo is None else max(self.lo, low)
        else:
            high = above - s if op == "<" else below
            self.hi = high if self.hi is None else min(self.hi, high)

    def add(self, atom: Compare) -> None:
        op, right = atom.op, atom.right
        if op in _EXISTS:
            listy = self.kind == F.STRINGS
            if op == "exists":
                self.present, self.nonempty = True, self.nonempty or listy
            elif listy:
                self.empty = True
            else:
                self.absent = True
            return
        self.present = True
        if not isinstance(right, Const):
            return
        v = right.value
        if op == "contains":
            self.contains.add(v)
            self.nonempty = True
        elif op == "not contains":
            self.not_contains.add(v)
        elif op in ("==", "in"):
            values = {_key(x) for x in (v if op == "in" else (v,))}  # type: ignore[union-attr]
            self.allowed = values if self.allowed is None else self.allowed & values
        elif op in ("!=", "not in"):
            self.excluded |= {_key(x) for x in (v if op == "not in" else (v,))}  # type: ignore[union-attr]
        elif isinstance(v, Decimal) and not isinstance(v, bool):
            self.bound(op, v)

    def fits(self, key: tuple[str, object]) -> bool:
        kind, value = key
        if key in self.excluded:
            return False
        if kind == "n":
            assert isinstance(value, Decimal)
            if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
                return False
            return value % self.step == 0
        return self.lo is None and self.hi is None  # an ordered comparison needs a number

    def ok(self) -> bool:
        if (self.present and self.absent) or (self.nonempty and self.empty) or (self.contains & self.not_contains):
            return False
        if self.allowed is not None:
            return any(self.fits(k) for k in self.allowed)
        info = F.field_info(self.path)
        universe = None
        if self.kind == F.BOOLEAN:
            universe = {_key(True), _key(False)}
        elif self.kind == F.STRING and info is not None and info.values is not None:
            universe = {_key(v) for v in info.values}
        if universe is not None:
            return any(k not in self.excluded for k in universe) and self.lo is None and self.hi is None
        if self.lo is not None and self.hi is not None:
            if self.lo > self.hi:
                return False
            if (self.hi - self.lo) / self.step < 64:  # few points: are they all excluded?
                n = int((self.hi - self.lo) / self.step)
                return any(_key(self.lo + i * self.step) not in self.excluded for i in range(n + 1))
        return True


def _states(conjunct: Conjunct) -> dict[str, _State]:
    states: dict[str, _State] = {}
    for atom in conjunct:
        for side in (atom.left, atom.right):
            if isinstance(side, Field) and side.path not in states:
                states[side.path] = _State(side.path, side.kind)
        states[atom.left.path].add(atom)
        if isinstance(atom.right, Field):
            states[atom.right.path].present = True
    return states


def satisfiable(conjunct: Conjunct) -> bool:
    """False only when no case can make every comparison true (conservative: True when unsure)."""
    states = _states(conjunct)
    if not all(s.ok() for s in states.values()):
        return False
    absent = [p for p, s in states.items() if s.absent]
    return not any(q.startswith(p + ".") and states[q].present for p in absent for q in states)


def _present(conjunct: Conjunct, path: str) -> bool:
    info = F.field_info(path)
    if info is not None and info.always_present:
        return True
    return any(
        (a.left.path == path or (isinstance(a.right, Field) and a.right.path == path)
         or a.left.path.startswith(path + ".")) and a.op != "not exists" for a in conjunct
    )


def _conjunct_implies(a: Conjunct, b: Conjunct) -> bool:
    if not satisfiable(a):
        return True
    for atom in b:
        if atom in a:
            continue
        if atom.op not in _EXISTS and not _present(a, atom.left.path):
            return False
        negated = Compare(NEGATED_OP[atom.op], atom.left, atom.right)
        if satisfiable(a + (negated,)):
            return False
    return True


def implies(a: list[Conjunct] | None, b: list[Conjunct] | None) -> bool:
    """Conservative: True only when every case that satisfies `a` satisfies `b` too."""
    if a is None or b is None:
        return False
    return all(any(_conjunct_implies(x, y) for y in b) for x in a)
