"""Message catalogs: one YAML file per locale in `catalogs/`, shipped inside the package.

A key missing from a locale's catalog falls back to the English one, so a partial
translation still gives whole sentences.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from escalator.errors import EscalatorError, Problem
from escalator.language.locales import DEFAULT_LOCALE, LOCALES

CATALOGS = Path(__file__).resolve().parent / "catalogs"


def check_locale(locale: str) -> str:
    """The locale itself, or an EscalatorError naming the known ones (for `locale=` and `--locale`)."""
    if locale not in LOCALES:
        raise EscalatorError(Problem(f"unknown locale {locale!r} (known: {', '.join(LOCALES)})", path="locale"))
    return locale


@lru_cache(maxsize=None)
def catalog(locale: str) -> "Catalog":
    """The catalog of a known locale (read once per process: catalogs are package data, never edited)."""
    from escalator.language.yamlio import load_file

    check_locale(locale)
    own = load_file(CATALOGS / f"{locale}.yaml").data
    if locale == DEFAULT_LOCALE:
        return Catalog(locale, own)
    return Catalog(locale, _merged(catalog(DEFAULT_LOCALE).data, own))


def _merged(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in own.items():
        out[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


class Catalog:
    """The texts of one locale, English filled in where a key is missing."""

    def __init__(self, locale: str, data: dict[str, Any]):
        self.locale = locale
        self.data = data
        self.babel: str = data["babel"]
        self.datetime_pattern: str = data["datetime"]
        self.words: dict[str, str] = data["words"]
        self.values: dict[str, str] = data.get("values") or {}

    def text(self, section: str, key: str, **fields: str) -> str:
        """A catalog sentence with its {placeholders} filled (str.format on our own package data only)."""
        template: str = self.data[section][key]
        return template.format(**fields) if fields else template

    @property
    def failed_reason(self) -> str:
        text: str = self.data["failed_reason"]
        return text
