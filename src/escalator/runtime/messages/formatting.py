"""Values as a reader in a locale expects them: money with its currency and the
locale's separators, whole numbers grouped, dates spelled out (Babel does the
locale data). Only messages use these: the decision JSON keeps machine formats.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_currency, format_decimal

from escalator.language import fields as F
from escalator.runtime.messages.catalog import Catalog


def is_money(value: Decimal) -> bool:
    """Case amounts, money parameters and tier caps all carry exactly two decimals (money.to_money)."""
    return value.as_tuple().exponent == -2


class Formatter:
    """Formats values for one locale and one currency."""

    def __init__(self, catalog: Catalog, currency: str):
        self.catalog = catalog
        self.currency = currency
        self.locale = Locale.parse(catalog.babel)

    def money(self, amount: Decimal) -> str:
        """"€ 25.000,00" (nl), "£25,000.00" (en, GBP)."""
        return _money(amount, self.currency, self.catalog.babel)

    def number(self, value: Decimal) -> str:
        if is_money(value):
            return self.money(value)
        return _number(value, self.catalog.babel)

    def datetime(self, moment: datetime) -> str:
        """"31 december 2026 om 09:00 UTC" (nl): the catalog's pattern in UTC, the decision's own zone."""
        return _datetime(moment, self.catalog.datetime_pattern, self.catalog.babel)

    def value(self, value: Any, kind: str | None = None) -> str:
        """A case or policy value quoted in a reason (the flat view's form: datetimes are epoch seconds)."""
        words = self.catalog.words
        if value is None:
            return words["unknown"]
        if value is F.PRESENT:
            return words["present"]
        if isinstance(value, bool):
            return words["yes"] if value else words["no"]
        if isinstance(value, Decimal):
            if kind == F.DATETIME:
                return self.datetime(datetime.fromtimestamp(int(value), tz=timezone.utc))
            return self.number(value)
        if isinstance(value, tuple):
            return words["list_separator"].join(self.value(v) for v in value) or words["none"]
        text = str(value)
        return self.catalog.values.get(text, text)


@lru_cache(maxsize=None)
def _locale(name: str) -> Locale:
    """Parsed once: Babel given a locale *name* parses it and builds a new Locale on every call
    (a third of a decision's time when every summary formats a new date)."""
    return Locale.parse(name)


@lru_cache(maxsize=4096)
def _money(amount: Decimal, currency: str, locale: str) -> str:
    return str(format_currency(amount, currency, locale=_locale(locale)))


@lru_cache(maxsize=4096)
def _number(value: Decimal, locale: str) -> str:
    return str(format_decimal(value, locale=_locale(locale)))


@lru_cache(maxsize=4096)
def _datetime(moment: datetime, pattern: str, locale: str) -> str:
    return str(babel_datetime(moment, pattern, tzinfo=timezone.utc, locale=_locale(locale)))
