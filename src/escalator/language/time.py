"""Time as a policy writes it: durations, instants, calendars (IANA zones, weekly hours,
holidays) parsed and checked into their compiled form (`CalendarSpec`).

Everything here works on timezone-aware UTC datetimes with whole seconds. A calendar's
opening hours are local wall-clock times in its zone (`zoneinfo`, with the `tzdata`
package as fallback); the run-time calendar that computes with them, and working-time
arithmetic, are in `escalator.language.calendars`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc
DAY = 86400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

ELAPSED_UNITS = {"m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
WORKING_UNITS = ("wh", "wd")
_DURATION = re.compile(r"^\s*(\d+)\s*(wh|wd|m|h|d|w)\s*$")


# -- durations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    """A period as written: `amount` of `unit` (m h d w elapsed; wh wd working time)."""

    amount: int
    unit: str

    @property
    def working(self) -> bool:
        return self.unit in WORKING_UNITS

    @property
    def seconds(self) -> int:
        """Length in seconds: elapsed for m/h/d/w, working seconds for wh (wd has no fixed length)."""
        if self.unit == "wh":
            return self.amount * 3600
        if self.unit == "wd":
            raise ValueError("a working-day duration has no fixed length in seconds")
        return self.amount * ELAPSED_UNITS[self.unit]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_duration(text: object) -> Duration:
    """`30m 24h 3d 8w` (elapsed) or `4wh 3wd` (working time); ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration like 24h, 3wd or 8w, got {text!r}")
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration: use a whole number and a unit m, h, d, w, wh or wd "
                         "(e.g. 30m, 24h, 3d, 8w, 4wh, 3wd)")
    amount, unit = int(match.group(1)), match.group(2)
    if amount > 10_000:
        raise ValueError(f"{text!r} is implausibly long")
    return Duration(amount, unit)


def utc_seconds(moment: datetime) -> datetime:
    """The instant in UTC, truncated to whole seconds (the resolution of every decision)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone (write Z or +01:00)")
    return moment.astimezone(UTC).replace(microsecond=0)


def parse_instant(text: str) -> datetime:
    """`2026-11-23T10:00:00Z` (or with an offset) -> UTC datetime; ValueError for naive or bad text."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date-time like 2026-11-23T10:00:00Z") from None
    return utc_seconds(moment)


def format_instant(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- calendars: the compiled (IR) form ----------------------------------------------------------


@dataclass(frozen=True)
class CalendarSpec:
    """A calendar as compiled into a policy: immutable and hashable into the policy digest."""

    name: str
    timezone: str
    hours: tuple[tuple[int, int, int], ...]  # (weekday 0=Mon, start minute, end minute), merged, sorted
    holidays: tuple[date, ...] = ()
    public_holidays: str | None = None  # a country (and subdivision) for the `holidays` library: NL, GB-ENG


_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _minutes(hours: str, minutes: str, text: str) -> int:
    h, m = int(hours), int(minutes)
    if m >= 60 or h > 24 or (h == 24 and m != 0):
        raise ValueError(f"{text!r}: {hours}:{minutes} is not a time of day (00:00 to 24:00)")
    return h * 60 + m


def _days(key: str) -> list[int]:
    parts = key.strip().lower().split("-")
    if any(p not in WEEKDAYS for p in parts) or len(parts) > 2:
        raise ValueError(f"{key!r} is not a weekday or a range like mon-fri (days: {', '.join(WEEKDAYS)})")
    first, last = WEEKDAYS.index(parts[0]), WEEKDAYS.index(parts[-1])
    if last < first:
        raise ValueError(f"{key!r}: a weekday range runs forwards from mon to sun")
    return list(range(first, last + 1))


def _ranges(value: Any, key: str) -> list[tuple[int, int]]:
    items = value if isinstance(value, list) else str(value).split(",") if isinstance(value, str) else None
    if not items:
        raise ValueError(f"hours for {key!r} are a text like \"09:00-17:30\" or a list of them")
    out = []
    for item in items:
        match = _RANGE.match(str(item))
        if not match:
            raise ValueError(f"{item!r} for {key!r} is not opening hours like \"09:00-17:30\"")
        start = _minutes(match.group(1), match.group(2), str(item))
        end = _minutes(match.group(3), match.group(4), str(item))
        if end <= start:
            raise ValueError(f"{item!r} for {key!r} closes before it opens")
        out.append((start, end))
    return out


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def check_zone(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError("timezone is an IANA name like Europe/Amsterdam")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r} (use an IANA name like Europe/Amsterdam or UTC)") from None
    return name


def check_country(code: Any) -> str:
    """A country (optionally -SUBDIVISION) the `holidays` library knows: NL, MT, GB-ENG."""
    from escalator.language import public_holidays

    if not isinstance(code, str) or not re.match(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$", code):
        raise ValueError(f"public_holidays is a country code like NL or GB-ENG, got {code!r}")
    if not public_holidays.is_known(code):
        raise ValueError(f"no public holidays are known for {code!r}")
    return code


def parse_calendar(name: str, raw: Any) -> CalendarSpec:
    """A policy's calendar mapping -> CalendarSpec. ValueError (with the offending key) on bad input."""
    if not isinstance(raw, dict):
        raise ValueError("a calendar is a mapping with timezone, hours and optionally holidays")
    unknown = set(raw) - {"timezone", "hours", "holidays", "public_holidays"}
    if unknown:
        raise ValueError(f"unknown calendar key(s) {', '.join(sorted(map(str, unknown)))} "
                         "(allowed: timezone, hours, holidays, public_holidays)")
    zone = check_zone(raw.get("timezone"))
    hours = raw.get("hours")
    if not isinstance(hours, dict):
        raise ValueError("hours is a mapping like {mon-fri: \"09:00-17:30\", sat: \"10:00-14:00\"}")
    per_day: dict[int, list[tuple[int, int, str]]] = {}
    for key, value in hours.items():
        for day in _days(str(key)):
            for start, end in _ranges(value, str(key)):
                per_day.setdefault(day, []).append((start, end, str(key)))
    merged: list[tuple[int, int, int]] = []
    for day in sorted(per_day):
        ranges = sorted(per_day[day])
        for (s1, e1, k1), (s2, e2, k2) in zip(ranges, ranges[1:]):
            if s2 < e1:
                raise ValueError(f"overlapping hours on {WEEKDAYS[day]}: {_hhmm(s1)}-{_hhmm(e1)} ({k1}) and "
                                 f"{_hhmm(s2)}-{_hhmm(e2)} ({k2})")
        current: list[int] | None = None
        for start, end, _ in ranges:
            if current is not None and start == current[1]:
                current[1] = end
                continue
            if current is not None:
                merged.append((day, current[0], current[1]))
            current = [start, end]
        if current is not None:
            merged.append((day, current[0], current[1]))
    days: list[date] = []
    for item in raw.get("holidays") or ():
        if isinstance(item, date) and not isinstance(item, datetime):
            days.append(item)
            continue
        try:
            days.append(date.fromisoformat(str(item)))
        except ValueError:
            raise ValueError(f"holiday {item!r} is not a date like 2026-12-25") from None
    public = raw.get("public_holidays")
    return CalendarSpec(name, zone, tuple(merged), tuple(sorted(set(days))),
                        check_country(public) if public is not None else None)
