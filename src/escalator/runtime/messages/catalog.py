"""Message catalogs: one YAML file per locale in `catalogs/`, shipped inside the package.

A key missing from a locale's catalog falls back to the English one, so a partial
translation still gives whole sentences.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from string import Formatter
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
        self._sentences: dict[tuple[str, str], Sentence] = {}

    def text(self, section: str, key: str, **fields: str) -> str:
        """A catalog sentence with its {placeholders} filled (str.format on our own package data only)."""
        template: str = self.data[section][key]
        return template.format(**fields) if fields else template

    def sentence(self, section: str, key: str) -> "Sentence":
        """The sentence split at its placeholders, once: `sentence(...).fill(**fields)` equals `text(...)`."""
        found = self._sentences.get((section, key))
        if found is None:
            found = self._sentences[(section, key)] = Sentence(self.data[section][key])
        return found

    @property
    def failed_reason(self) -> str:
        text: str = self.data["failed_reason"]
        return text


class Sentence:
    """A catalog template split once at its {placeholders}: filling it is one %-format, the same
    text `str.format` gives for string values (which are all a message ever fills in)."""

    def __init__(self, template: str):
        parts: list[str] = []
        names: list[str] = []
        for literal, name, spec, conversion in Formatter().parse(template):
            parts.append(literal.replace("%", "%%"))
            if name is None:
                continue
            if spec or conversion or not name.isidentifier():
                raise ValueError(f"{template!r}: a message placeholder is a plain {{name}}")
            parts.append("%s")
            names.append(name)
        self.template = template
        self.names = tuple(names)
        self._format = "".join(parts)

    def fill(self, **fields: str) -> str:
        return self._format % tuple([fields[name] for name in self.names])
