"""The compiled locale formatters give Babel's text, character for character.

Messages format every date and amount with `DatetimeFormat` / `NumberFormat` (the locale data
looked up once, no Babel call per value); Babel itself is the reference here. Dates around the
DST changes of Europe/Amsterdam and Europe/London and the year's end, in every shipped catalog's
pattern and a few harder ones; amounts at zero, a cent, negatives, the policies' caps and large.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalator.language.locales import LOCALES
from escalator.runtime.messages import catalog
from escalator.runtime.messages.formatting import (
    DatetimeFormat, Formatter, NumberFormat, babel_datetime, babel_money, babel_number,
)

UTC = timezone.utc
ZONES = {"UTC": UTC, "Europe/Amsterdam": ZoneInfo("Europe/Amsterdam"), "Europe/London": ZoneInfo("Europe/London")}
BABEL_LOCALES = sorted({catalog(name).babel for name in LOCALES})
PATTERNS = sorted({catalog(name).datetime_pattern for name in LOCALES}) + [
    "EEEE d MMM yy, h:mm:ss a zzzz",   # weekday names, 12-hour clock, AM/PM (Babel per value), long zone
    "dd.MM.yyyy HH:mm:ss Z O v x '100%' ''",  # offsets, quotes, a percent sign in literal text
    "LLLL ccc K k G Q w",              # stand-alone names, rarer hour forms, era, quarter, week
]
CURRENCIES = ("EUR", "GBP")

# instants: anywhere in 2000-2040, and densely around the 2026 DST changes and the year's end
ANCHORS = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
           datetime(2026, 12, 31, 23, tzinfo=UTC), datetime(2027, 1, 1, 0, tzinfo=UTC)]
instants = st.one_of(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)),
    st.builds(lambda anchor, seconds: anchor + timedelta(seconds=seconds),
              st.sampled_from(ANCHORS), st.integers(-3 * 86400, 3 * 86400)),
    st.builds(lambda moment, zone: moment.astimezone(ZONES[zone]),  # an aware input in another zone
              st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
              st.sampled_from(sorted(ZONES))),
)
CAPS = [Decimal(v) for v in ("0.00", "0.01", "25.00", "50.00", "100.00", "150.00", "1000.00", "2000.00",
                             "10000.00", "25000.00", "1000000.00")]
money = st.one_of(
    st.sampled_from(CAPS),
    st.sampled_from(CAPS).map(lambda cap: -cap),
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False),
)
numbers = st.one_of(
    st.integers(-10**15, 10**15).map(Decimal),
    st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=Decimal(-1), max_value=Decimal(1)),
    st.sampled_from([Decimal("-0"), Decimal("-0.0001"), Decimal("0.0005"), Decimal("1.2345"), Decimal("1E+3")]),
)


@pytest.mark.parametrize("zone", sorted(ZONES))
@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("locale", BABEL_LOCALES)
@settings(max_examples=80, deadline=None)
@given(moment=instants)
def test_datetime_equals_babel(locale: str, pattern: str, zone: str, moment: datetime) -> None:
    fast = _compiled(pattern, locale, zone)  # one per pattern, so its memory of recent instants is used too
    expected = babel_datetime(moment, pattern, locale, ZONES[zone])
    assert fast.format(moment) == expected
    assert fast.format(moment) == expected


_FORMATS: dict[tuple[str, str, str], DatetimeFormat] = {}


def _compiled(pattern: str, locale: str, zone: str) -> DatetimeFormat:
    key = (pattern, locale, zone)
    if key not in _FORMATS:
        _FORMATS[key] = DatetimeFormat(pattern, locale, ZONES[zone])
    return _FORMATS[key]


@pytest.mark.parametrize("currency", CURRENCIES)
@pytest.mark.parametrize("locale", BABEL_LOCALES)
@settings(max_examples=200, deadline=None)
@given(amount=money)
def test_money_equals_babel(locale: str, currency: str, amount: Decimal) -> None:
    formatter = NumberFormat(locale, currency)
    assert formatter.compiled  # the shipped locales take the fast path, not the fallback
    assert formatter.format(amount) == babel_money(amount, currency, locale)


@pytest.mark.parametrize("locale", BABEL_LOCALES)
@settings(max_examples=200, deadline=None)
@given(value=numbers)
def test_number_equals_babel(locale: str, value: Decimal) -> None:
    assert NumberFormat(locale).format(value) == babel_number(value, locale)


def test_shipped_texts_by_hand() -> None:
    """What a reader sees, written out (Babel's CLDR data: nl puts the sign after the euro)."""
    nl = Formatter(catalog("nl"), "EUR")
    en = Formatter(catalog("en"), "GBP")
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))  # CET: 00:30 UTC
    assert nl.datetime(moment) == "29 maart 2026 om 00:30 UTC"
    # 02:30 Amsterdam happens twice on 25 October 2026: the second (fold=1, CET) is 01:30 UTC, not 00:30
    twice = [datetime(2026, 10, 25, 2, 30, fold=fold, tzinfo=ZoneInfo("Europe/Amsterdam")) for fold in (0, 1)]
    assert [nl.datetime(m) for m in twice] == ["25 oktober 2026 om 00:30 UTC", "25 oktober 2026 om 01:30 UTC"]
    assert en.datetime(moment) == "29 March 2026 at 00:30 UTC"
    assert nl.money(Decimal("-25000.00")) == "€\xa0-25.000,00"
    assert en.money(Decimal("0.01")) == "£0.01"
    assert nl.number(Decimal("48")) == "48" and en.number(Decimal("1234567")) == "1,234,567"
    assert en.number(Decimal("1234.50")) == "£1,234.50"  # two decimals: an amount of money


def test_what_the_compiled_form_does_not_cover_is_still_babels() -> None:
    """A pattern whose text Babel post-processes (quotes in a number pattern) and values that are not
    finite Decimals go to Babel; an invalid date pattern fails as Babel fails."""
    swiss = NumberFormat("fr_CH", "CHF")  # its group separator is an apostrophe
    assert not swiss.compiled
    assert swiss.format(Decimal("1234.50")) == babel_money(Decimal("1234.50"), "CHF", "fr_CH")
    assert NumberFormat("en_GB").format(Decimal("Infinity")) == babel_number(Decimal("Infinity"), "en_GB")
    with pytest.raises(ValueError):
        DatetimeFormat("MMMMMMM", "en_GB")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_catalog_sentence_fills_as_str_format(locale: str) -> None:
    """The summary and agent note fill catalog sentences split once; the text is str.format's."""
    texts = catalog(locale)
    filled = 0
    for section in ("summary", "agent_note"):
        for key, template in texts.data[section].items():
            sentence = texts.sentence(section, key)
            values = {name: f"<{name} 100% {{x}}>" for name in sentence.names}
            if values:
                assert sentence.fill(**values) == texts.text(section, key, **values)
                filled += 1
    assert filled >= 7  # contact times, three deadline sentences, forward, flags
