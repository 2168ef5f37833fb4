"""Shared field types for the models: exact money, identifiers, strict scalars."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer, StringConstraints

from escalator.money import format_money, to_money, to_number


def _money(value: Any) -> Decimal:
    return to_money(value)


def _signed_money(value: Any) -> Decimal:
    return to_money(value, allow_negative=True)


_money_out = PlainSerializer(format_money, return_type=str)


class _MoneyMark:
    """Marks a money field in a model's annotations (language.fields derives MONEY_FIELDS from it)."""

    def __repr__(self) -> str:
        return "MONEY"


MONEY = _MoneyMark()

Money = Annotated[Decimal, BeforeValidator(_money), _money_out, MONEY]
"""Non-negative EUR amount with at most two decimals."""
SignedMoney = Annotated[Decimal, BeforeValidator(_signed_money), _money_out, MONEY]
"""EUR amount that may be negative (a net loss can be a net win)."""
Number = Annotated[Decimal, BeforeValidator(to_number)]
"""Exact number with at most two decimals (hours, counts written with decimals)."""

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]

STRICT = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=True)

NonNegativeInt = Annotated[int, Field(ge=0, le=10**9, strict=True)]
