"""Public holidays come from the `holidays` library once, then from escalator's cache folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import holidays
import pytest

from escalator.language import public_holidays as ph

SRC = str(Path(__file__).resolve().parent.parent / "src")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ESCALATOR_CACHE_DIR", str(tmp_path / "cache"))
    ph.forget()
    yield tmp_path / "cache"
    ph.forget()


@pytest.mark.parametrize("code", ["NL", "GB-ENG", "MT"])
@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_dates_are_the_librarys(cache, code, year):
    country, _, subdiv = code.partition("-")
    want = {d for d in holidays.country_holidays(country, subdiv=subdiv or None, years=year) if d.year == year}
    assert ph.holidays_in(code, year) == want
    ph.forget()  # and the same again when read back from the file
    assert ph.holidays_in(code, year) == want


def test_known_and_unknown_codes(cache):
    assert ph.is_known("NL") and ph.is_known("GB-ENG")
    assert not ph.is_known("XX")
    assert not ph.is_known("NL-XYZ")
    stored = json.loads(next(cache.glob("holidays-*.json")).read_text())
    assert stored["codes"] == {"NL": True, "GB-ENG": True, "XX": False, "NL-XYZ": False}


def test_a_warm_cache_answers_without_importing_the_library(cache):
    probe = ("import sys; from escalator.language import public_holidays as ph; "
             "ok = ph.is_known('NL'); days = ph.holidays_in('NL', 2026); "
             "print(ok, len(days), 'holidays' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": SRC, "ESCALATOR_CACHE_DIR": str(cache)}
    cold = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    warm = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert cold.stdout.split() == ["True", "10", "True"]
    assert warm.stdout.split() == ["True", "10", "False"]


def test_a_damaged_cache_is_ignored_and_rewritten(cache):
    ph.holidays_in("NL", 2026)
    path = next(cache.glob("holidays-*.json"))
    path.write_text('{"codes": {"NL": "yes"}, "years": {"NL:2026": ["not a date"]}}')
    ph.forget()
    assert date(2026, 4, 27) in ph.holidays_in("NL", 2026)  # King's Day
    assert ph.is_known("NL")
    path.write_text("{not json")
    ph.forget()
    assert date(2026, 12, 25) in ph.holidays_in("NL", 2026)


def test_an_unwritable_cache_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("ESCALATOR_CACHE_DIR", str(blocker / "cache"))  # a folder below a file: cannot exist
    ph.forget()
    try:
        assert date(2026, 12, 25) in ph.holidays_in("NL", 2026)
        assert ph.is_known("MT")
    finally:
        ph.forget()


def test_a_new_library_build_gets_its_own_file(cache, monkeypatch):
    ph.holidays_in("NL", 2026)
    monkeypatch.setattr(ph, "library_build", lambda: "another-build")
    ph.forget()
    ph.holidays_in("NL", 2026)
    names = {p.name for p in cache.glob("holidays-*.json")}
    assert "holidays-another-build.json" in names and len(names) == 2  # the first build's file stays beside it
