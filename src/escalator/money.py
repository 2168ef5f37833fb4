"""Exact money and durations.

Money is `Decimal` with at most two decimal places (euro cents); a value exactly
at a cap is inside it because nothing is ever a float. Durations are written
`30m`, `48h`, `14d` or `8w`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000")  # one billion EUR: anything above is a data error
MAX_NUMBER = Decimal("1e12")


def to_decimal(value: object) -> Decimal:
    """Convert a number written in YAML/JSON/Python to Decimal without float rounding."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))  # the shortest text that round-trips: 0.1 -> 0.1
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError("expected a finite number")
    if result and result.adjusted() > 1000:  # before any arithmetic: 1e999999999 would overflow
        raise ValueError(f"{value} is implausibly large")
    return result


def to_money(value: object, *, allow_negative: bool = False) -> Decimal:
    """A money amount in EUR: finite, at most two decimals, within +-1e9."""
    amount = value if value.__class__ is Decimal else to_decimal(value)
    if not amount.is_finite():
        raise ValueError("expected a finite number")
    if amount.adjusted() >= 10 or abs(amount) > MAX_AMOUNT:  # first: arithmetic on a huge number overflows
        raise ValueError(f"{amount} is larger than the maximum of {MAX_AMOUNT:,} EUR")
    cents = amount.quantize(CENT)
    if cents != amount:
        raise ValueError(f"{amount} has more than two decimal places (cents)")
    if amount < 0 and not allow_negative:
        raise ValueError(f"{amount} is negative")
    return cents


def to_number(value: object) -> Decimal:
    """A plain number (hours, counts, attribute values): finite, at most two decimals, within +-1e12."""
    number = to_decimal(value)
    if abs(number) > MAX_NUMBER:
        raise ValueError(f"{number} is implausibly large")
    if number != number.quantize(CENT):
        raise ValueError(f"{number} has more than two decimal places")
    return number


def format_money(amount: Decimal | None) -> str | None:
    """Two decimals, no separators: the decision JSON's money format ("2000.00")."""
    return None if amount is None else f"{amount.quantize(CENT)}"


def pretty_money(amount: Decimal) -> str:
    """For people: thousands separators ("2,400.00")."""
    return f"{amount.quantize(CENT):,}"


_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: object) -> timedelta:
    if not isinstance(text, str):
        raise ValueError("expected a duration like 48h, 14d or 8w")
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30m, 48h, 14d or 8w")
    number, unit = int(match.group(1)), match.group(2)
    if number > 10_000:
        raise ValueError(f"{text!r} is implausibly long")
    return timedelta(**{_UNITS[unit]: number})


def format_duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"
