"""The languages and currencies a policy may name (spec section 9).

The message catalogs themselves live in `escalator.runtime.messages`; this list is
down here so the compiler can check a policy's `locale` and a pack's per-locale
reasons without importing the runtime (a test keeps the two in step).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

LOCALES = ("en", "nl")
"""Every language with a message catalog; `en` is the fallback of every text."""
DEFAULT_LOCALE = "en"
DEFAULT_CURRENCY = "EUR"


def check_locale(value: str) -> str:
    if value not in LOCALES:
        raise ValueError(f"unknown locale {value!r} (known: {', '.join(LOCALES)})")
    return value


def check_currency(value: str) -> str:
    """An ISO 4217 code that Babel knows (so every amount can be formatted in it)."""
    from babel.numbers import list_currencies

    if not (len(value) == 3 and value.isalpha() and value.isupper()) or value not in list_currencies():
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (for example EUR, GBP, USD)")
    return value


LocaleName = Annotated[str, AfterValidator(check_locale)]
CurrencyCode = Annotated[str, AfterValidator(check_currency)]
