"""Type checks for comparisons: a policy that loads is a policy whose conditions make sense.

Each comparison's operands are checked against the case schema (`escalator.language.fields`):
kinds must match, ordering needs numbers or dates, lists need `contains` or `in`,
enumerated fields only take their known values, and numbers have at most cents.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable

from escalator.errors import Location, did_you_mean
from escalator.language import fields as F
from escalator.language.ir import Const, Field
from escalator.money import CENT

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


class ConditionError(ValueError):
    """A problem in one condition; the compiler adds the file position."""

    def __init__(self, message: str, hint: str | None = None, code: str = "E-COND"):
        super().__init__(message)
        self.hint = hint
        self.code = code
        self.location: Location | None = None  # set by compile_condition


def suggest(name: str, options: Iterable[str], prefix: str = "") -> str | None:
    """A did-you-mean hint (errors.did_you_mean), names written with their prefix (params.X)."""
    known = [f"{prefix}{option}" for option in options]
    return did_you_mean(f"{prefix}{name}", known, "known") if known else None


def _check_number(value: Any) -> None:
    if not isinstance(value, Decimal):
        return
    if not value.is_finite():
        raise ConditionError(f"{value} is not a finite number")
    if value.adjusted() > 15 or value != value.quantize(CENT):
        raise ConditionError(f"{value} has more than two decimal places" if value.adjusted() <= 15
                             else f"{value} is implausibly large")


def check_types(op: str, left: Field, right: Field | Const) -> None:
    kind = left.kind
    if kind == F.OBJECT:
        raise ConditionError(f"{left.path!r} is an object: only `exists` / `not exists` apply", code="E-TYPE")
    if isinstance(right, Field):
        if right.kind == F.OBJECT or (kind != F.ANY and right.kind != F.ANY and right.kind != kind):
            raise ConditionError(f"cannot compare {left.path} ({kind}) with {right.path} ({right.kind})", code="E-TYPE")
        if op not in COMPARISONS:
            raise ConditionError(f"{op!r} needs a constant on the right, not the field {right.path}", code="E-TYPE")
        if F.STRINGS in (kind, right.kind):
            raise ConditionError(f"cannot compare the lists {left.path} and {right.path}: use contains with a value",
                                 code="E-TYPE")
        ordered = (F.NUMBER, F.DATETIME, F.ANY)
        if op not in ("==", "!=") and (kind not in ordered or right.kind not in ordered):
            raise ConditionError(f"{op!r} needs numbers or dates; {left.path} and {right.path} are not", code="E-TYPE")
        return
    value = right.value
    if kind == F.DATETIME and not (right.source and right.source[:4].isdigit()):
        raise ConditionError(
            f"{left.path} is a date-time: compare it with a date-time like 2026-01-01T00:00:00Z, not {right}",
            code="E-TYPE",
        )
    if op in ("in", "not in"):
        if not isinstance(value, tuple):
            raise ConditionError(f"{op!r} needs a list on the right, e.g. [a, b]", code="E-TYPE")
        for item in value:
            _check_scalar(op, left, item)
        return
    if op in ("contains", "not contains"):
        if kind not in (F.STRINGS, F.ANY):
            raise ConditionError(f"{op!r} applies to list fields; {left.path} is a {kind}", code="E-TYPE")
        if not isinstance(value, str):
            raise ConditionError(f"{left.path} holds text: {op} needs a text value, not {value!r}", code="E-TYPE")
        _check_enum(left, value)
        return
    if isinstance(value, tuple):
        raise ConditionError(f"{op!r} compares with one value, not a list (use `in`)", code="E-TYPE")
    _check_scalar(op, left, value)
    if op not in ("==", "!=") and kind not in (F.NUMBER, F.DATETIME, F.ANY):
        raise ConditionError(f"{op!r} needs a number or a date; {left.path} is a {kind}", code="E-TYPE")
    if op not in ("==", "!=") and not isinstance(value, Decimal):
        raise ConditionError(f"{op!r} needs a number on the right, not {value!r}", code="E-TYPE")


def _check_scalar(op: str, left: Field, value: Any) -> None:
    kind = left.kind
    value_kind = F.value_kind(value)
    _check_number(value)
    if kind == F.ANY:
        return
    if kind == F.STRINGS:
        raise ConditionError(f"{left.path} is a list: use `contains`, not {op!r}", code="E-TYPE")
    if kind == F.DATETIME:
        if value_kind != F.NUMBER:
            raise ConditionError(f"{left.path} is a date-time: compare it with a date-time", code="E-TYPE")
        return
    if value_kind != kind:
        raise ConditionError(
            f"cannot compare {left.path} ({kind}) with {value!r} ({value_kind})", code="E-TYPE"
        )
    if isinstance(value, str):
        _check_enum(left, value)


def _check_enum(left: Field, value: str) -> None:
    info = F.field_info(left.path)
    if info is not None and info.values is not None and value not in info.values:
        hint = suggest(value, info.values)
        raise ConditionError(
            f"{value!r} is not a possible value of {left.path} ({', '.join(info.values)})", hint, "E-VALUE"
        )
