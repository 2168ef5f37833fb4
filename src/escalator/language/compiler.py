"""Compile a resolved policy and its rule packs into the IR (`escalator.language.ir`).

This is where cross-references are checked: tiers a rule requires or forwards
to, parameters and their types, rule packs and disabled rule ids. All problems
of a policy are collected and reported together, each with file:line:column.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import fields, is_dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from escalator.language import fields as F
from escalator.language.fields import TOP_LEVEL_FIELDS
from escalator.language.conditions import At, Scope, compile_condition, word_operand
from escalator.language.typecheck import ConditionError
from escalator.errors import Location, PolicyError, Problem, did_you_mean, suggest
from escalator.language.invariants import compile_invariants
from escalator.language.ir import Cap, CompiledPolicy, Const, Effects, Field, Param, Rule, Sla, TemplatePart, Tier
from escalator.language.loading import ResolvedPolicy, Source
from escalator.language.masks import mask_problems
from escalator.language.yamlio import DocPath
from escalator.language.models.policy import ParamSpec, RuleFile, RulePackFile
from escalator.money import to_money, to_number
from escalator.language.locales import DEFAULT_CURRENCY, DEFAULT_LOCALE
from escalator.language.time import CalendarSpec, Duration, parse_duration

REQUIRED_ACTIONS = ("goodwill_bonus", "withdrawal_expedite", "forfeiture_reversal")


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, message: str, location: Location | None, code: str | None = None, hint: str | None = None) -> None:
        self.items.append(Problem(message, location, code=code, hint=hint))


def compile_policy(resolved: ResolvedPolicy, packs: dict[str, Source]) -> CompiledPolicy:
    """Resolved policy + rule packs -> CompiledPolicy, or PolicyError listing every problem."""
    problems = _Problems()
    doc = resolved.file.doc
    tiers = _compile_tiers(resolved, problems)
    tier_map = {t.id: t for t in tiers}
    actions = _actions(tiers)
    complaints = resolved.complaints_tier
    if complaints is None:
        problems.add("the policy names no complaints_tier", doc.location(()), "E-TIER")
    elif complaints not in tier_map:
        problems.add(f"complaints_tier {complaints!r} is not a tier", doc.location(("complaints_tier",)), "E-TIER",
                     did_you_mean(str(complaints), tier_map, "tiers"))
    elif not tier_map[complaints].player_reachable:
        problems.add(f"complaints_tier {complaints!r} is an internal tier", doc.location(("complaints_tier",)), "E-INTERNAL")
    failsafe = resolved.failsafe_tier or _default_failsafe(tiers, complaints)
    if resolved.failsafe_tier is not None:
        if failsafe not in tier_map:
            problems.add(f"failsafe_tier {failsafe!r} is not a tier", doc.location(("failsafe_tier",)), "E-TIER",
                         did_you_mean(str(failsafe), tier_map, "tiers"))
        elif not tier_map[failsafe].player_reachable:
            problems.add(f"failsafe_tier {failsafe!r} is an internal tier", doc.location(("failsafe_tier",)), "E-INTERNAL")
    if not any(t.player_reachable for t in tiers):
        problems.add("the policy has no tier players can reach", doc.location(("tiers",)), "E-TIER")

    selected: list[Source] = []
    for i, name in enumerate(resolved.packs):
        if name not in packs:
            problems.add(
                f"unknown rule pack {name!r}", doc.location(("rules", "packs", i)), "E-PACK",
                did_you_mean(name, (n for n in packs if (":" in n) == (":" in name)), "known packs"),
            )
        else:
            selected.append(packs[name])
    if not resolved.packs and not resolved.abstract:
        problems.add("the policy selects no rule packs (rules.packs)", doc.location(()), "E-PACK")

    params = _compile_params(resolved, selected, problems, packs)
    used: set[str] = set()
    scope = Scope(params={p.name: p for p in params}, tiers=tier_map, actions=actions, used_params=used)
    rules = _compile_rules(resolved, selected, scope, problems)
    calendars = _compile_calendars(resolved, tiers, problems)
    sla = _compile_sla(resolved, problems, has_working_calendar=resolved.working_calendar is not None)
    invariants, opt_outs, invariant_problems = compile_invariants(resolved.invariants, scope)
    problems.items.extend(invariant_problems)
    problems.items.extend(mask_problems(resolved.log_mask, rules))

    if problems.items:
        raise PolicyError(problems.items)
    effective = resolved.effective
    policy = CompiledPolicy(
        id=resolved.id,
        version=resolved.version or "0",
        name=resolved.name or resolved.id,
        jurisdictions=tuple(resolved.jurisdictions),
        effective_from=effective.from_ if effective else None,
        effective_until=effective.until if effective else None,
        tiers=tuple(tiers),
        complaints_tier=complaints or "",
        failsafe_tier=failsafe or "",
        actions=actions,
        params=tuple(params),
        sla=tuple(sorted(sla.items())),
        rules=tuple(rules),
        packs=tuple(resolved.packs),
        calendars=calendars,
        working_calendar=resolved.working_calendar,
        source=doc.file,
        log_mask=tuple(resolved.log_mask),
        locale=resolved.locale or DEFAULT_LOCALE,
        currency=resolved.currency or DEFAULT_CURRENCY,
        invariants=tuple(invariants),
        opt_outs=tuple(opt_outs),
    )
    return _with_digest(policy)


def _compile_tiers(resolved: ResolvedPolicy, problems: _Problems) -> list[Tier]:
    tiers = []
    for order, (tier_id, spec) in enumerate(resolved.tiers.items()):
        where = resolved.tier_sources.get(tier_id)
        missing = [k for k in ("name", "level", "authority", "fallback") if k not in spec]
        if missing:
            inherited = [t for t, spec_ in resolved.tiers.items() if t != tier_id and "level" in spec_]
            close = suggest(tier_id, inherited)
            problems.add(f"tier {tier_id!r} lacks {', '.join(missing)}", where, "E-TIER",
                         f"a new tier needs them all; did you mean the tier {close!r}?" if close
                         else "a new tier needs name, level, authority and fallback")
            continue
        authority = spec["authority"]
        absent = [a for a in REQUIRED_ACTIONS if a not in authority]
        if absent:
            problems.add(f"tier {tier_id!r} has no authority for {', '.join(absent)}", where, "E-TIER")
        tiers.append(Tier(
            id=tier_id, name=spec["name"], level=spec["level"],
            authority=tuple((a, Decimal(v).quantize(Decimal("0.01"))) for a, v in authority.items()),
            fallback=spec["fallback"], player_reachable=spec.get("player_reachable", True), order=order,
            calendar=spec.get("calendar"),
            names=tuple(sorted((spec.get("names") or {}).items())),
        ))
    return tiers


def _default_failsafe(tiers: list[Tier], complaints: str | None) -> str | None:
    """The most senior reachable tier below the complaints tier (first listed on a tie)."""
    ceiling = next((t.level for t in tiers if t.id == complaints), None)
    candidates = [t for t in tiers if t.player_reachable and t.id != complaints
                  and (ceiling is None or t.level < ceiling)]
    if not candidates:
        return complaints
    return max(candidates, key=lambda t: (t.level, -t.order)).id


def _actions(tiers: list[Tier]) -> tuple[str, ...]:
    seen: dict[str, None] = {a: None for a in REQUIRED_ACTIONS}
    for tier in tiers:
        for action, _ in tier.authority:
            seen.setdefault(action, None)
    return tuple(seen)


def _param_value(spec: ParamSpec, value: Any) -> Any:
    if spec.type == "money":
        return to_money(value)
    if spec.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {value!r}")
        return Decimal(value)
    if spec.type == "number":
        return to_number(value)
    if spec.type == "string":
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        return value
    if spec.type == "duration":  # elapsed only (compared with time.case_age / time.status_age): seconds
        duration = parse_duration(value)
        if duration.working:
            raise ValueError(f"{value!r}: a duration parameter is elapsed time (m, h, d, w)")
        return Decimal(duration.seconds)
    if spec.type == "strings":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"expected a list of text values, got {value!r}")
        return tuple(value)
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _compile_params(
    resolved: ResolvedPolicy, packs: list[Source], problems: _Problems, every_pack: dict[str, Source]
) -> list[Param]:
    known = {name for pack in every_pack.values() for name in pack.model.params}
    for name in resolved.params:
        if name not in known:
            close = suggest(name, known)
            problems.add(
                f"unknown parameter {name!r}: no rule pack declares it", resolved.param_sources.get(name), "E-PARAM",
                f"did you mean {close!r}?" if close else "declare it in a rule pack's params",
            )
    declared: dict[str, tuple[ParamSpec, Source]] = {}
    for pack in packs:
        model: RulePackFile = pack.model
        for name, spec in model.params.items():
            if name in declared and declared[name][0].type != spec.type:
                problems.add(
                    f"parameter {name!r} is of type {spec.type} here but {declared[name][0].type} in pack "
                    f"{declared[name][1].model.pack!r}", pack.doc.location(("params", name)), "E-PARAM",
                )
            declared.setdefault(name, (spec, pack))
    params = []
    for name, (spec, pack) in declared.items():
        if name in resolved.params:
            raw, where = resolved.params[name], resolved.param_sources.get(name)
        elif spec.default is not None:
            raw, where = spec.default, pack.doc.location(("params", name, "default"))
        else:
            problems.add(
                f"parameter {name!r} (pack {pack.model.pack!r}) has no value and no default",
                resolved.file.doc.location(("params",)), "E-PARAM",
            )
            continue
        try:
            params.append(Param(name, spec.type, _param_value(spec, raw)))
        except ValueError as exc:
            problems.add(f"parameter {name!r}: {exc}", where, "E-PARAM")
    return params


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _template(text: str | None, scope: Scope, errors: list[ConditionError]) -> tuple[TemplatePart, ...]:
    """A reason text as parts; every bad placeholder is added to `errors` (all of them, not the first)."""
    if not text:
        return ()
    text = " ".join(text.split())
    parts: list[TemplatePart] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > position:
            parts.append(TemplatePart(text=text[position:match.start()]))
        name = match.group(1).strip()
        position = match.end()
        try:
            operand = word_operand(name, scope) if "." in name or name in TOP_LEVEL_FIELDS else None
        except ConditionError as exc:
            errors.append(exc)
            continue
        if isinstance(operand, Field) and operand.path in F.TIME_FIELDS:
            errors.append(ConditionError(f"reason placeholder {{{name}}}: time fields change every second, so a "
                                         "reason cannot quote them (say what the rule found in words)"))
            continue
        if isinstance(operand, Field):
            parts.append(TemplatePart(field=operand))
        elif isinstance(operand, Const):
            parts.append(TemplatePart(const=operand))
        else:
            errors.append(ConditionError(
                f"reason placeholder {{{name}}} is not a case field, params.X or tiers.T.ACTION"))
    if position < len(text):
        parts.append(TemplatePart(text=text[position:]))
    return tuple(parts)


def _reasons(
    text: str | dict[str, str] | None, scope: Scope, errors: list[ConditionError]
) -> tuple[tuple[TemplatePart, ...], tuple[tuple[str, tuple[TemplatePart, ...]], ...]]:
    """A rule's reason: the English template, and the other locales' templates by locale."""
    if not isinstance(text, dict):
        return _template(text, scope, errors), ()
    if DEFAULT_LOCALE not in text:
        raise ConditionError(f"a reason given per locale needs an {DEFAULT_LOCALE!r} text (the fallback of "
                             "every other locale)")
    others = tuple((locale, _template(text[locale], scope, errors))
                   for locale in sorted(text) if locale != DEFAULT_LOCALE)
    return _template(text[DEFAULT_LOCALE], scope, errors), others


def _compile_rules(resolved: ResolvedPolicy, packs: list[Source], scope: Scope, problems: _Problems) -> list[Rule]:
    rules: list[Rule] = []
    known: set[str] = set()
    for pack in packs:
        model: RulePackFile = pack.model
        for i, spec in enumerate(model.rules):
            rule_id = f"{model.pack}.{spec.id}"
            where = pack.doc.locator(("rules", i))
            if rule_id in known:
                problems.add(f"duplicate rule id {rule_id!r}", where(("id",)), "E-DUPLICATE")
                continue
            known.add(rule_id)
            if rule_id in resolved.disabled:
                continue
            try:
                condition = compile_condition(spec.when, scope, pack.doc.locator(("rules", i, "when")))
            except ConditionError as exc:
                problems.add(f"rule {rule_id}: {exc}", exc.location or where(("when",)), exc.code, exc.hint)
                continue
            effects = _compile_effects(rule_id, spec, scope, where, problems)
            bad: list[ConditionError] = []
            try:
                reason, translations = _reasons(spec.then.reason, scope, bad)
            except ConditionError as error:
                bad.append(error)
            for placeholder in bad:
                problems.add(f"rule {rule_id}: {placeholder}", where(("then", "reason")), "E-REASON", placeholder.hint)
            if bad:
                continue
            if effects is None:
                continue
            rules.append(Rule(
                id=rule_id, pack=model.pack, description=spec.description, priority=spec.priority,
                condition=condition, effects=effects, reason=reason, index=len(rules), location=where(()),
                translations=translations,
            ))
    for rule_id, disabled_at in resolved.disabled.items():
        if rule_id not in known:
            problems.add(f"disable names unknown rule {rule_id!r}", disabled_at, "E-RULE",
                         did_you_mean(rule_id, known, "rules of the selected packs"))
    return rules


def _compile_effects(rule_id: str, spec: RuleFile, scope: Scope, where: At, problems: _Problems) -> Effects | None:
    then = spec.then
    ok = True
    tiers = scope.tiers

    def fail(message: str, path: DocPath, code: str, hint: str | None = None) -> None:
        nonlocal ok
        ok = False
        problems.add(f"rule {rule_id}: {message}", where(("then",) + path), code, hint)

    if then.require is not None:
        if then.require not in tiers:
            fail(f"requires unknown tier {then.require!r}", ("require",), "E-TIER", did_you_mean(then.require, tiers, "tiers"))
        elif not tiers[then.require].player_reachable:
            fail(
                f"requires internal tier {then.require!r}, which players never reach", ("require",), "E-INTERNAL",
                "use `forward:` to send information to an internal tier",
            )
    caps = []
    for action, raw in (then.cap or {}).items():
        if action not in scope.actions:
            fail(f"caps unknown action {action!r}", ("cap", action), "E-ACTION",
                 did_you_mean(action, scope.actions, "actions"))
            continue
        try:
            if isinstance(raw, str) and raw.startswith(("params.", "tiers.")):
                const = scope.reference(raw)
                amount = to_money(const.value)  # type: ignore[union-attr]
                caps.append(Cap(action, amount, raw))
            else:
                caps.append(Cap(action, to_money(raw)))
        except (ConditionError, ValueError) as exc:
            fail(f"cap {action}: {exc}", ("cap", action), "E-CAP")
    for i, action in enumerate(then.deny):
        if action not in scope.actions:
            fail(f"denies unknown action {action!r}", ("deny", i), "E-ACTION", did_you_mean(action, scope.actions, "actions"))
    for i, tier_id in enumerate(then.forward):
        if tier_id not in tiers:
            fail(f"forwards to unknown tier {tier_id!r}", ("forward", i), "E-TIER", did_you_mean(tier_id, tiers, "tiers"))
        elif tiers[tier_id].player_reachable:
            fail(f"forwards to {tier_id!r}, which is not an internal tier", ("forward",), "E-FORWARD",
                 "use `require:` to route the case to a tier players can reach")
    if not any([then.require, then.cap, then.deny, then.procedure, then.forward, then.flag, then.reason]):
        fail("has no effect", (), "E-EFFECT")
    if not ok:
        return None
    return Effects(
        require=then.require, caps=tuple(caps), deny=tuple(dict.fromkeys(then.deny)), procedure=then.procedure,
        forward=tuple(dict.fromkeys(then.forward)), flags=tuple(dict.fromkeys(then.flag)),
    )


def _compile_sla(resolved: ResolvedPolicy, problems: _Problems, has_working_calendar: bool) -> dict[str, Sla]:
    result = {}
    for name, window in resolved.sla.items():
        sla = Sla(
            acknowledge=parse_duration(window["acknowledge"]) if "acknowledge" in window else None,
            resolve=parse_duration(window["resolve"]) if "resolve" in window else None,
            pause_in=tuple(dict.fromkeys(window.get("pause_in") or ())),
        )
        working = [str(d) for d in (sla.acknowledge, sla.resolve) if d is not None and d.working]
        if working and not has_working_calendar:
            problems.add(f"sla {name} uses working time ({', '.join(working)}) but the policy names no "
                         "working_calendar", resolved.sla_sources.get(name), "E-CALENDAR",
                         "add working_calendar: NAME (one of the policy's calendars)")
        result[name] = sla
    return result


def _compile_calendars(resolved: ResolvedPolicy, tiers: list[Tier], problems: _Problems) -> tuple[CalendarSpec, ...]:
    """The policy's calendars (named by their key), with every reference to one checked."""
    from dataclasses import replace

    calendars = {name: replace(spec, name=name) for name, spec in resolved.calendars.items()}
    for tier in tiers:
        if tier.calendar is not None and tier.calendar not in calendars:
            problems.add(f"tier {tier.id!r} names unknown calendar {tier.calendar!r}", resolved.tier_sources.get(tier.id),
                         "E-CALENDAR", f"known calendars: {', '.join(sorted(calendars)) or '(none)'}")
    working = resolved.working_calendar
    if working is not None and working not in calendars:
        problems.add(f"working_calendar names unknown calendar {working!r}", resolved.working_calendar_source,
                     "E-CALENDAR", f"known calendars: {', '.join(sorted(calendars)) or '(none)'}")
    return tuple(calendars[name] for name in sorted(calendars))


# -- digest -------------------------------------------------------------------

# log_mask changes what the decision log stores, never a decision (masks.py makes sure);
# invariants and opt-outs are claims about decisions, checked by `escalator check`
_NOT_HASHED = {"location", "source", "digest", "index", "log_mask", "invariants", "opt_outs"}
_HASHED_IF_SET = {"calendar", "calendars", "working_calendar", "pause_in"}  # time support left old digests alone


def _canonical(value: Any) -> Any:
    if isinstance(value, Duration) and not value.working:  # as when periods were timedeltas: digests stay
        return {"$seconds": value.seconds}
    if is_dataclass(value):
        return {f.name: _canonical(getattr(value, f.name)) for f in fields(value)
                if f.name not in _NOT_HASHED and not (f.name in _HASHED_IF_SET and not getattr(value, f.name))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, timedelta):
        return {"$seconds": int(value.total_seconds())}
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_json(policy: CompiledPolicy) -> str:
    """The compiled policy as canonical JSON (no file paths): what the digest hashes.

    Rules are listed by id, so reordering rules in a pack (which never changes a
    decision) does not change the digest either.
    """
    data = _canonical(policy)
    data["rules"] = sorted(data["rules"], key=lambda rule: rule["id"])
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _with_digest(policy: CompiledPolicy) -> CompiledPolicy:
    from dataclasses import replace

    digest = "sha256:" + hashlib.sha256(canonical_json(policy).encode("utf-8")).hexdigest()
    return replace(policy, digest=digest)
