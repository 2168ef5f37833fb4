"""Public holidays by country and year, remembered on disk between processes.

The `holidays` library imports all of its ~250 country modules the first time any country
is asked for (about 140 ms of CPU here), more than a whole engine load may cost. A country's
holidays in a given year never change for one build of the library, so escalator keeps the
answers in one small JSON file per library build in its cache folder
(`$ESCALATOR_CACHE_DIR`, else `$XDG_CACHE_HOME/escalator`, else `~/.cache/escalator`).
A process that finds its answers there never imports `holidays`. A missing, unreadable,
corrupt or read-only cache only costs time: the library is asked and the answer is the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from datetime import date
from importlib.util import find_spec
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_memory: dict[str, Any] | None = None
"""This process's copy of the cache file: {"codes": {code: bool}, "years": {"NL:2026": [iso dates]}}."""


def cache_dir() -> Path:
    explicit = os.environ.get("ESCALATOR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "escalator"


def library_build() -> str:
    """Which installed build of `holidays` answers (its location, size and time), without importing it."""
    spec = find_spec("holidays")
    if spec is None or spec.origin is None:
        return "absent"
    origin = Path(spec.origin)
    marks = [str(origin)]
    for name in ("version.py", "__init__.py"):
        try:
            st = (origin.parent / name).stat()
            marks.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            marks.append(f"{name}:-")
    return hashlib.sha256("|".join(marks).encode()).hexdigest()[:16]


def _cache_file() -> Path:
    return cache_dir() / f"holidays-{library_build()}.json"


def _load() -> dict[str, Any]:
    global _memory
    if _memory is None:
        try:
            data = json.loads(_cache_file().read_text(encoding="utf-8"))
            if not (isinstance(data, dict) and isinstance(data.get("codes"), dict)
                    and isinstance(data.get("years"), dict)):
                raise ValueError("not a holidays cache")
            _memory = data
        except (OSError, ValueError):
            _memory = {"codes": {}, "years": {}}
    return _memory


def _save() -> None:
    """Write this process's answers back (atomically; two processes at once lose only work)."""
    target = _cache_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".holidays-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(_memory, out, sort_keys=True)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only or full disk: the answers stay in memory


def _ask_library(country: str, subdiv: str, year: int) -> list[date]:
    import holidays

    found = holidays.country_holidays(country, subdiv=subdiv or None, years=year)
    return sorted(d for d in found if d.year == year)


def is_known(code: str) -> bool:
    """Whether the library has public holidays for `code` (NL, GB-ENG): NL and GB-ENG yes, XX no."""
    with _lock:
        codes = _load()["codes"]
        if not isinstance(codes.get(code), bool):
            country, _, subdiv = code.partition("-")
            try:
                _ask_library(country, subdiv, 2026)
                codes[code] = True
            except NotImplementedError:
                codes[code] = False
            _save()
        return bool(codes[code])


def holidays_in(code: str, year: int) -> frozenset[date]:
    """The public holidays of a known `code` in `year`."""
    key = f"{code}:{year}"
    with _lock:
        years = _load()["years"]
        try:
            return frozenset(date.fromisoformat(d) for d in years[key])
        except (KeyError, TypeError, ValueError):  # not there yet, or a damaged entry
            country, _, subdiv = code.partition("-")
            found = _ask_library(country, subdiv, year)
            years[key] = [d.isoformat() for d in found]
            _save()
            return frozenset(found)


def forget() -> None:
    """Drop this process's copy (tests, and a cache folder changed at run time)."""
    global _memory
    with _lock:
        _memory = None
