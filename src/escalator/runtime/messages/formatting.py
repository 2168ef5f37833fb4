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
_ATTRIBUTES = {"d": "day", "H": "hour", "m": "minute", "s": "second", "y": "year"}


class _Attribute:
    """A field that is a datetime attribute, or a name looked up by it (a month's)."""

    def __init__(self, name: str, names: dict[int, str] | None = None):
        self.name, self.names = name, names

    def __call__(self, moment: datetime) -> Any:
        value = getattr(moment, self.name)
        return value if self.names is None else self.names[value]


class DatetimeFormat:
    """A Babel date-time pattern compiled for one locale and one display zone.

    `format(moment)` equals `babel.dates.format_datetime(moment, pattern, tzinfo=zone, locale=locale)`.
    The catalogs' patterns (day, month name, year, hour, minute, zone in UTC) read all their
    fields with one `attrgetter` call and a %-format.
    """

    def __init__(self, pattern: str, locale: str, zone: tzinfo = UTC):
        self.pattern = pattern
        self.locale = babel_locale(locale)
        self.zone = zone
        self._zone_names: dict[tuple[str, Any], str] = {}
        self._recent: dict[datetime, str] = {}
        parse_pattern(pattern)  # Babel's own check of the pattern (a field of a length it does not know)
        template: list[str] = []
        fields: list[Piece | _Attribute] = []
        for kind, value in tokenize_pattern(pattern):
            if kind == "chars":
                template.append(str(value).replace("%", "%%"))
                continue
            assert isinstance(value, tuple)
            spec, field = self._field(value[0], value[1])
            if isinstance(field, str):  # the same text at every instant
                template.append(field.replace("%", "%%"))
                continue
            template.append(spec)
            fields.append(field)
        self._template = "".join(template)
        self._pieces: tuple[Piece, ...] = tuple(fields)
        self._getter: Callable[[datetime], Any] | None = None
        self._names: tuple[tuple[int, dict[int, str]], ...] = ()
        if fields and all(isinstance(field, _Attribute) for field in fields):
            attributes = [field.name for field in fields if isinstance(field, _Attribute)]
            getter = attrgetter(*attributes)
            self._getter = getter if len(attributes) > 1 else (lambda moment: (getter(moment),))
            self._names = tuple((i, field.names) for i, field in enumerate(fields)
                                if isinstance(field, _Attribute) and field.names is not None)

    def _field(self, char: str, num: int) -> tuple[str, Piece | _Attribute | str]:
        """A field as a %-spec and what fills it (as Babel does): an attribute, a function of the
        (zoned) datetime, or a text that is the same at every instant."""
        number = f"%0{num}d"  # Babel: '%0*d' % (num, value)
        if char in _ATTRIBUTES and not (char == "y" and num == 2):
            return number, _Attribute(_ATTRIBUTES[char])
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
                return number, _Attribute("month")
            width = {3: "abbreviated", 4: "wide", 5: "narrow"}[num]
            names = self.locale.months["format" if char == "M" else "stand-alone"][width]
            return "%s", _Attribute("month", {month: str(names[month]) for month in range(1, 13)})
        if char == "E" or (char == "c" and num >= 3):
            width = {3: "abbreviated", 4: "wide", 5: "narrow", 6: "short"}[max(num, 3)]
            names = self.locale.days["stand-alone" if char == "c" else "format"][width]
            days = {day: str(names[day]) for day in range(7)}
            return "%s", lambda v: days[v.weekday()]
        name = char * num
        if char in _TIME_ZONE_FIELDS:
            if isinstance(self.zone, timezone):  # a fixed offset (UTC): one name, one offset, no DST
                return "%s", str(DateTimeFormat(datetime(2000, 1, 1, tzinfo=self.zone), self.locale)[name])
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

    def _render(self, local: datetime) -> str:
        if self._getter is None:
            return self._template % tuple([piece(local) for piece in self._pieces])
        values = self._getter(local)
        if self._names:
            values = list(values)
            for i, names in self._names:
                values[i] = names[values[i]]
            values = tuple(values)
        return self._template % values  # type: ignore[no-any-return]

    def format(self, moment: datetime) -> str:
        if moment.tzinfo is not UTC:  # (only UTC instants are remembered: equality ignores `fold` in a zone)
            return self._render((moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))
                                .astimezone(self.zone))
        text = self._recent.get(moment)  # many decisions name the same instant (an office's next opening)
        if text is None:
            text = self._render(moment.astimezone(self.zone))
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
        self.recent: dict[Decimal, str] = {}
        """Texts of recent non-zero numbers (see `format`)."""
        # Babel strips 'quoted' text from the whole result, and names the currency per amount (¤¤¤):
        # both are left to it, as are scientific and significant-digit patterns
        self.compiled = (not pattern.exp_prec and "@" not in pattern.pattern and pattern.number_pattern != ""
                         and not any("'" in text or "¤¤¤" in text for text in prefix + suffix)
                         and "'" not in self._group + self._decimal)

    def format(self, value: Decimal) -> str:
        # amounts cluster (a cap, a threshold, the cent either side): a non-zero finite Decimal's text
        # depends on its value only, so equal numbers (25.00, 25.0) share it; a zero's sign counts
        # (-0.00), so zeros are never remembered
        if type(value) is Decimal and value.is_finite():
            text = self.recent.get(value)
            if text is not None:
                return text
            if self.compiled:
                text = self._format(value)
                if value:
                    if len(self.recent) >= _RECENT:
                        self.recent.clear()
                    self.recent[value] = text
                return text
        if self.currency:
            return babel_money(value, self.currency, self.locale_name)
        return babel_number(value, self.locale_name)

    def _format(self, value: Decimal) -> str:
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
        self._separator, self._none, self._values = words["list_separator"], words["none"], catalog.values

    def money(self, amount: Decimal) -> str:
        """"€ 25.000,00" (nl), "£25,000.00" (en, GBP)."""
        return self._money.format(amount)

    def number(self, value: Decimal) -> str:
        formatter = self._money if value.as_tuple().exponent == -2 else self._number  # is_money
        return formatter.recent.get(value) or formatter.format(value)

    def datetime(self, moment: datetime) -> str:
        """"31 december 2026 om 09:00 UTC" (nl): the catalog's pattern in UTC, the decision's own zone."""
        return self._datetime.format(moment)

    def value(self, value: Any, kind: str | None = None) -> str:
        """A case or policy value quoted in a reason (the flat view's form: datetimes are epoch seconds)."""
        kind_of = type(value)
        if kind_of is str:  # the commonest first: enumerations, ids
            text: str = self._values.get(value, value)
            return text
        if kind_of is Decimal:
            if kind == F.DATETIME:
                return self.datetime(datetime.fromtimestamp(int(value), tz=UTC))
            return self.number(value)
        if kind_of is tuple:
            return self._separator.join([self.value(v) for v in value]) or self._none
        if value is None or value is True or value is False:
            return self._words[value]
        if value is F.PRESENT:
            return self._present
        if isinstance(value, Decimal):
            return self.value(Decimal(value), kind)
        if isinstance(value, tuple):
            return self.value(tuple(value), kind)
        shown = str(value)
        return self._values.get(shown, shown)
