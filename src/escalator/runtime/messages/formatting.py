"""Values as a reader in a locale expects them: money with its currency and the
locale's separators, whole numbers grouped, dates spelled out. Only messages use
these: the decision JSON keeps machine formats.

Babel has the locale data, but asking it per value costs 40-60 us (it looks the
locale data up, parses the pattern and resolves the time-zone name every time).
So a pattern is compiled once per locale, currency and zone (`DatetimeFormat`,
`NumberFormat`): Babel gives the pieces (literal text, month and day names,
symbols, the currency's digits and sign), and a value is then formatted with
plain Python doing exactly what Babel does with them. Whatever the compiled form
does not cover (a rare pattern field, a quote inside a number pattern, a value
that is not a finite Decimal) is still formatted by Babel, per value. A property
test holds the two equal (tests/test_formatting.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Any

from babel import Locale
from babel.dates import DateTimeFormat, parse_pattern, tokenize_pattern
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import (
    NumberPattern, format_currency, format_decimal, get_currency_precision, get_currency_symbol,
    get_decimal_quantum, get_decimal_symbol, get_group_symbol,
)

from escalator.language import fields as F
from escalator.runtime.messages.catalog import Catalog

UTC = timezone.utc


def is_money(value: Decimal) -> bool:
    """Case amounts, money parameters and tier caps all carry exactly two decimals (money.to_money)."""
    return value.as_tuple().exponent == -2


@lru_cache(maxsize=None)
def babel_locale(name: str) -> Locale:
    """Parsed once: Babel given a locale *name* parses it and builds a new Locale on every call."""
    return Locale.parse(name)


# -- Babel itself: the fallback, and the reference the tests compare with ------------------------


def babel_datetime(moment: datetime, pattern: str, locale: str, zone: tzinfo = UTC) -> str:
    return str(_babel_datetime(moment, pattern, tzinfo=zone, locale=babel_locale(locale)))


def babel_number(value: Decimal, locale: str) -> str:
    return str(format_decimal(value, locale=babel_locale(locale)))


def babel_money(amount: Decimal, currency: str, locale: str) -> str:
    return str(format_currency(amount, currency, locale=babel_locale(locale)))


# -- dates ---------------------------------------------------------------------------------------

Piece = Callable[[datetime], Any]
_RECENT = 2048
"""Formatted instants a DatetimeFormat remembers (cleared when full)."""
_TIME_ZONE_FIELDS = frozenset("zZvVxXO")
_NUMERIC = {"d": attrgetter("day"), "H": attrgetter("hour"), "m": attrgetter("minute"),
            "s": attrgetter("second"), "y": attrgetter("year")}


class DatetimeFormat:
    """A Babel date-time pattern compiled for one locale and one display zone.

    `format(moment)` equals `babel.dates.format_datetime(moment, pattern, tzinfo=zone, locale=locale)`.
    """

    def __init__(self, pattern: str, locale: str, zone: tzinfo = UTC):
        self.pattern = pattern
        self.locale = babel_locale(locale)
        self.zone = zone
        self._zone_names: dict[tuple[str, Any], str] = {}
        self._recent: dict[datetime, str] = {}
        parse_pattern(pattern)  # Babel's own check of the pattern (a field of a length it does not know)
        template: list[str] = []
        pieces: list[Piece] = []
        for kind, value in tokenize_pattern(pattern):
            if kind == "chars":
                template.append(str(value).replace("%", "%%"))
                continue
            assert isinstance(value, tuple)
            spec, piece = self._field(value[0], value[1])
            template.append(spec)
            pieces.append(piece)
        self._template = "".join(template)
        self._pieces = tuple(pieces)

    def _field(self, char: str, num: int) -> tuple[str, Piece]:
        """A field as a %-spec and the function of the (zoned) datetime that fills it, as Babel does."""
        number = f"%0{num}d"  # Babel: '%0*d' % (num, value)
        if char in _NUMERIC and not (char == "y" and num == 2):
            return number, _NUMERIC[char]
        if char == "y":  # yy: the last two digits
            return "%s", lambda v: ("%02d" % v.year)[-2:]
        if char == "h":
            return number, lambda v: v.hour % 12 or 12
        if char == "K":
            return number, lambda v: v.hour % 12
        if char == "k":
            return number, lambda v: v.hour or 24
        if char in "ML":
            if num <= 2:
                return number, attrgetter("month")
            width = {3: "abbreviated", 4: "wide", 5: "narrow"}[num]
            names = self.locale.months["format" if char == "M" else "stand-alone"][width]
            months = {month: str(names[month]) for month in range(1, 13)}
            return "%s", lambda v: months[v.month]
        if char == "E" or (char == "c" and num >= 3):
            width = {3: "abbreviated", 4: "wide", 5: "narrow", 6: "short"}[max(num, 3)]
            names = self.locale.days["stand-alone" if char == "c" else "format"][width]
            days = {day: str(names[day]) for day in range(7)}
            return "%s", lambda v: days[v.weekday()]
        name = char * num
        if char in _TIME_ZONE_FIELDS:
            return "%s", lambda v: self._zone_name(v, name)
        locale = self.locale
        return "%s", lambda v: str(DateTimeFormat(v, locale)[name])  # anything rarer: Babel, per value

    def _zone_name(self, moment: datetime, name: str) -> str:
        """Babel's name for the display zone at `moment`: it depends only on the offset and DST."""
        key = (name, (moment.utcoffset(), moment.dst()))
        text = self._zone_names.get(key)
        if text is None:
            text = self._zone_names[key] = str(DateTimeFormat(moment, self.locale)[name])
        return text

    def format(self, moment: datetime) -> str:
        if moment.tzinfo is not UTC:  # (only UTC instants are remembered: equality ignores `fold` in a zone)
            local = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(self.zone)
            return self._template % tuple([piece(local) for piece in self._pieces])
        text = self._recent.get(moment)  # many decisions name the same instant (an office's next opening)
        if text is None:
            local = moment.astimezone(self.zone)
            text = self._template % tuple([piece(local) for piece in self._pieces])
            if len(self._recent) >= _RECENT:
                self._recent.clear()
            self._recent[moment] = text
        return text


# -- numbers and money ---------------------------------------------------------------------------


class NumberFormat:
    """A Babel number pattern compiled for one locale (and a currency, for money).

    `format(value)` equals `format_decimal(value, locale=locale)` (currency None) or
    `format_currency(value, currency, locale=locale)`: the same Decimal operations in the
    same order (so the same rounding and the same errors), with the symbols looked up once.
    """

    def __init__(self, locale: str, currency: str | None = None):
        self.locale_name = locale
        self.currency = currency
        found = babel_locale(locale)
        pattern: NumberPattern = found.currency_formats["standard"] if currency else found.decimal_formats[None]
        self._group = get_group_symbol(found)
        self._decimal = get_decimal_symbol(found)
        self._grouping = pattern.grouping
        self._int_min = pattern.int_prec[0]
        self._frac = (get_currency_precision(currency),) * 2 if currency else pattern.frac_prec
        self._quantum = get_decimal_quantum(self._frac[1])
        prefix, suffix = list(pattern.prefix), list(pattern.suffix)
        if currency:
            symbol = get_currency_symbol(currency, found)
            for texts in (prefix, suffix):
                for i, text in enumerate(texts):
                    texts[i] = text.replace("¤¤", currency.upper()).replace("¤", symbol) if "¤¤¤" not in text else text
        self._prefix, self._suffix = tuple(prefix), tuple(suffix)
        self._scale = pattern.scale
        # Babel strips 'quoted' text from the whole result, and names the currency per amount (¤¤¤):
        # both are left to it, as are scientific and significant-digit patterns
        self.compiled = (not pattern.exp_prec and "@" not in pattern.pattern and pattern.number_pattern != ""
                         and not any("'" in text or "¤¤¤" in text for text in prefix + suffix)
                         and "'" not in self._group + self._decimal)

    def format(self, value: Decimal) -> str:
        if not self.compiled or type(value) is not Decimal or not value.is_finite():
            if self.currency:
                return babel_money(value, self.currency, self.locale_name)
            return babel_number(value, self.locale_name)
        value = value.scaleb(self._scale)  # as NumberPattern.apply, step by step
        negative = int(value.is_signed())
        value = abs(value).normalize()
        whole, _, fraction = f"{value.quantize(self._quantum):f}".partition(".")
        if len(whole) < self._int_min:
            whole = "0" * (self._int_min - len(whole)) + whole
        size, grouped = self._grouping[0], ""
        while len(whole) > size:
            grouped = self._group + whole[-size:] + grouped
            whole = whole[:-size]
            size = self._grouping[1]
        digits = fraction or "0"
        low, high = self._frac
        if len(digits) < low:
            digits += "0" * (low - len(digits))
        if high == 0 or (low == 0 and int(digits) == 0):
            tail = ""
        else:
            while len(digits) > low and digits[-1] == "0":
                digits = digits[:-1]
            tail = self._decimal + digits
        return self._prefix[negative] + whole + grouped + tail + self._suffix[negative]


# -- what messages call ------------------------------------------------------------------------------


class Formatter:
    """Formats values for one locale and one currency (compiled once; immutable, thread-safe)."""

    def __init__(self, catalog: Catalog, currency: str):
        self.catalog = catalog
        self.currency = currency
        self.locale = babel_locale(catalog.babel)
        self._money = NumberFormat(catalog.babel, currency)
        self._number = NumberFormat(catalog.babel)
        self._datetime = DatetimeFormat(catalog.datetime_pattern, catalog.babel)
        words = catalog.words
        self._words = {None: words["unknown"], True: words["yes"], False: words["no"]}
        self._present = words["present"]

    def money(self, amount: Decimal) -> str:
        """"€ 25.000,00" (nl), "£25,000.00" (en, GBP)."""
        return self._money.format(amount)

    def number(self, value: Decimal) -> str:
        if value.as_tuple().exponent == -2:  # is_money
            return self._money.format(value)
        return self._number.format(value)

    def datetime(self, moment: datetime) -> str:
        """"31 december 2026 om 09:00 UTC" (nl): the catalog's pattern in UTC, the decision's own zone."""
        return self._datetime.format(moment)

    def value(self, value: Any, kind: str | None = None) -> str:
        """A case or policy value quoted in a reason (the flat view's form: datetimes are epoch seconds)."""
        if value is None or value is True or value is False:
            return self._words[value]
        if value is F.PRESENT:
            return self._present
        if isinstance(value, Decimal):
            if kind == F.DATETIME:
                return self.datetime(datetime.fromtimestamp(int(value), tz=UTC))
            return self.number(value)
        words = self.catalog.words
        if isinstance(value, tuple):
            return words["list_separator"].join(self.value(v) for v in value) or words["none"]
        text = str(value)
        return self.catalog.values.get(text, text)
