"""Exact money and durations.

Money is `Decimal` with at most two decimal places (euro cents); a value exactly
at a cap is inside it because nothing is ever a float. Durations are written
`30m`, `48h`, `14d` or `8w`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from escalator.errors import describe

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000")  # one billion EUR: anything above is a data error
MAX_NUMBER = Decimal("1e12")


def to_decimal(value: object) -> Decimal:
    """Convert a number written in YAML/JSON/Python to Decimal without float rounding."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number like 20.00, found {describe(value)}")
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
            raise ValueError(f"expected a number like 20.00, found {describe(value)}") from None
    else:
        raise ValueError(f"expected a number like 20.00, found {describe(value)}")
    if not result.is_finite():
        raise ValueError("expected a finite number")
    if result and result.adjusted() > 1000:  # before any arithmetic: 1e999999999 would overflow
        raise ValueError(f"{value} is implausibly large")
    return result


_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d{1,2}$")
_THOUSANDS_POINT = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,000.00
_THOUSANDS_COMMA = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")  # 1.000,00
_CURRENCY = re.compile(r"^(EUR|€|\$|£)?\s*([-+]?[\d.,]+)\s*(EUR|€)?$", re.IGNORECASE)


def number_hint(text: str) -> str | None:
    """What to write instead of a number that was written as text (decimal comma, separators...)."""
    t = text.strip()
    if _THOUSANDS_POINT.match(t):
        return f"no thousands separators: write {t.replace(',', '')}"
    if _THOUSANDS_COMMA.match(t):
        return f"no thousands separators, and a decimal point: write {t.replace('.', '').replace(',', '.')}"
    if _DECIMAL_COMMA.match(t):
        return f"decimal comma: write a decimal point, {t.replace(',', '.')}"
    currency = _CURRENCY.match(t)
    if currency and (currency.group(1) or currency.group(3)):
        return f"write the amount alone, without a currency: {currency.group(2)}"
    try:
        Decimal(t)
    except InvalidOperation:
        return None
    return "a number in quotes is text here: remove the quotes"


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
