"""Compile a policy's `invariants:` (its own claims about its decisions) into the IR.

Part of compiling a policy (`compiler.compile_policy` calls `compile_invariants`), so an
invariant naming an unknown field, tier or action is a policy error with file, line and
column that `escalator validate` reports like any other; `escalator check` then tests the
compiled claims (`authoring.properties`) on generated cases.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from escalator.errors import Problem
from escalator.language.conditions import At, Scope, compile_condition
from escalator.language.fields import MONEY_FIELDS
from escalator.language.ir import Expectation, Invariant, OptOut
from escalator.language.loading import InvariantSource
from escalator.language.typecheck import ConditionError
from escalator.money import to_decimal

# The properties `escalator check` tests on every policy (authoring.properties); a policy may
# opt out of one with `disable:`.
BUILTIN_PROPERTIES = {
    "decides": "every valid case gets a decision",
    "locked-with-complaints": "a locked case never leaves the complaints tier",
    "authority-within-limit": "authority never exceeds the handler's own limit",
    "no-internal-handler": "no internal tier is ever a handler",
    "backends-agree": "the durable and compiled backends decide alike",
    "monotone-in-money": "raising an amount never lowers the handler's seniority",
}
EXPECT_KEYS = ("handler", "handler_in", "handler_not", "min_level", "locked", "procedure", "authority",
               "flags", "forward", "reasons", "not_reasons")
_KEYS = {"id", "description", "when", "expect", "disable", "fields"}
_NAME_LISTS = ("handler_in", "handler_not", "flags", "forward", "reasons", "not_reasons")


def compile_invariants(sources: list[InvariantSource], scope: Scope) -> tuple[list[Invariant], list[OptOut], list[Problem]]:
    """The policy's invariants and opt-outs (inherited ones first), and every problem found."""
    scope = replace(scope, used_params=set())  # an invariant does not make a parameter "used" by rules
    invariants: list[Invariant] = []
    opt_outs: list[OptOut] = []
    problems: list[Problem] = []
    for source in sources:
        try:
            compiled = _compile(source.spec, scope, source.at)
        except ConditionError as exc:
            problems.append(Problem(f"invariant: {exc}", exc.location or source.at(()), code=exc.code, hint=exc.hint))
            continue
        except _Bad as exc:
            problems.append(Problem(f"invariant: {exc}", source.at(exc.path), code=exc.code, hint=exc.hint))
            continue
        if isinstance(compiled, OptOut):
            opt_outs.append(compiled)
        else:
            invariants.append(compiled)
    return invariants, opt_outs, problems


class _Bad(ValueError):
    def __init__(self, message: str, path: tuple[str, ...] = (), code: str = "E-INVARIANT", hint: str | None = None):
        super().__init__(message)
        self.path, self.code, self.hint = path, code, hint


def _compile(spec: dict[str, Any], scope: Scope, at: At) -> Invariant | OptOut:
    if not isinstance(spec.get("id"), str):
        raise _Bad("every invariant needs an `id`")
    name = spec["id"]
    unknown = set(spec) - _KEYS
    if unknown:
        raise _Bad(f"unknown key(s) {sorted(unknown)} in invariant {name!r}", (sorted(unknown)[0],))
    if "disable" in spec:
        return _opt_out(spec, at)
    expect = spec.get("expect")
    if not isinstance(expect, dict) or not expect or set(expect) - set(EXPECT_KEYS):
        raise _Bad(f"invariant {name!r} needs `expect` with keys from {', '.join(EXPECT_KEYS)}", ("expect",))
    condition = None
    if "when" in spec:
        condition = compile_condition(spec["when"], scope, lambda path: at(("when",) + path))
    description = spec.get("description") or name
    if not isinstance(description, str):
        raise _Bad(f"invariant {name!r}: `description` is text", ("description",))
    return Invariant(name, description, condition, _expectation(name, expect, scope), at(()))


def _opt_out(spec: dict[str, Any], at: At) -> OptOut:
    prop = spec["disable"]
    if prop not in BUILTIN_PROPERTIES:
        raise _Bad(f"{prop!r} is not a built-in property ({', '.join(BUILTIN_PROPERTIES)})", ("disable",))
    fields = spec.get("fields")
    if fields is not None and (not isinstance(fields, list) or set(fields) - set(MONEY_FIELDS)):
        raise _Bad(f"`fields` lists money fields: {', '.join(MONEY_FIELDS)}", ("fields",))
    return OptOut(prop, tuple(fields) if fields else None, at(()))


def _expectation(name: str, expect: dict[str, Any], scope: Scope) -> Expectation:
    def names(key: str) -> tuple[str, ...]:
        value = expect.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Bad(f"invariant {name!r}: `{key}` is a list of names", ("expect", key))
        return tuple(value)

    lists = {key: names(key) for key in _NAME_LISTS}
    handler = expect.get("handler")
    if handler is not None and not isinstance(handler, str):
        raise _Bad(f"invariant {name!r}: `handler` is a tier id", ("expect", "handler"))
    for tier in ([handler] if handler is not None else []) + [*lists["handler_in"], *lists["handler_not"]]:
        if tier not in scope.tiers:
            raise _Bad(f"invariant {name!r}: unknown tier {tier!r}", ("expect",), "E-TIER")
    min_level = expect.get("min_level")
    if min_level is not None and (isinstance(min_level, bool) or not isinstance(min_level, (int, Decimal))
                                  or int(min_level) != min_level):
        raise _Bad(f"invariant {name!r}: `min_level` is a whole number", ("expect", "min_level"))
    locked = expect.get("locked")
    if locked is not None and not isinstance(locked, bool):
        raise _Bad(f"invariant {name!r}: `locked` is true or false", ("expect", "locked"))
    procedure = expect.get("procedure")
    if procedure not in (None, "complaint"):
        raise _Bad(f"invariant {name!r}: `procedure` is complaint or null", ("expect", "procedure"))
    return Expectation(
        handler=handler, handler_in=lists["handler_in"] if "handler_in" in expect else None,
        handler_not=lists["handler_not"], min_level=int(min_level) if min_level is not None else None,
        locked=locked, procedure=procedure, no_procedure="procedure" in expect and procedure is None,
        authority=_authority(name, expect.get("authority") or {}, scope), flags=lists["flags"],
        forward=lists["forward"], reasons=lists["reasons"], not_reasons=lists["not_reasons"],
    )


def _authority(name: str, authority: object, scope: Scope) -> tuple[tuple[str, Decimal], ...]:
    if not isinstance(authority, dict):
        raise _Bad(f"invariant {name!r}: `authority` maps actions to amounts", ("expect", "authority"))
    out = []
    for action, most in authority.items():
        if action not in scope.actions:
            raise _Bad(f"invariant {name!r}: unknown action {action!r}", ("expect", "authority", action), "E-ACTION")
        try:
            out.append((action, to_decimal(most)))
        except ValueError as exc:
            raise _Bad(f"invariant {name!r}: authority {action}: {exc}", ("expect", "authority", action)) from None
    return tuple(out)
