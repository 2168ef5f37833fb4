"""Time: durations, calendars (IANA zones, weekly hours, holidays) and working-time arithmetic.

Everything here works on timezone-aware UTC datetimes with whole seconds. A
calendar's opening hours are local wall-clock times in its zone, so DST is
handled by the zone data (`zoneinfo`, with the `tzdata` package as fallback):
09:00-17:30 on the day the clocks change is still 8.5 hours. Intervals are
half-open ([open, close)) and adjacent intervals merge, also across midnight.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc
DAY = 86400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HORIZON_DAYS = 800
"""How far ahead calendar searches look (a calendar closed for longer never opens again)."""
BLOCK_DAYS = 32
"""The span of one block of a calendar's opening-hours index (see `Calendar.block`)."""
BLOCK_AHEAD = 40
"""Days an index block reaches past its span: a next opening or close within them is a bisect away."""

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
    import holidays

    if not isinstance(code, str) or not re.match(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$", code):
        raise ValueError(f"public_holidays is a country code like NL or GB-ENG, got {code!r}")
    country, _, subdiv = code.partition("-")
    try:
        holidays.country_holidays(country, subdiv=subdiv or None, years=2026)
    except NotImplementedError:
        raise ValueError(f"no public holidays are known for {code!r}") from None
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


# -- calendars: the runtime form ----------------------------------------------------------------

Interval = tuple[datetime, datetime]


class Calendar:
    """Opening hours in UTC, computed per local date and cached. Safe to share between threads."""

    def __init__(self, spec: CalendarSpec):
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)
        self.week: dict[int, tuple[tuple[int, int], ...]] = {}
        for day, start, end in spec.hours:
            self.week[day] = self.week.get(day, ()) + ((start, end),)
        self._holidays = set(spec.holidays)
        self._public_years: set[int] = set()
        self._days: dict[date, tuple[Interval, ...]] = {}
        self._blocks: dict[int, Block] = {}
        self.always_open = (not spec.holidays and spec.public_holidays is None
                            and all(self.week.get(d) == ((0, 1440),) for d in range(7)))

    @property
    def name(self) -> str:
        return self.spec.name

    def _local(self, day: date, minute: int) -> datetime:
        moment = datetime.combine(day, time(0), tzinfo=self.zone) if minute < 1440 else \
            datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        if minute % 1440:
            moment = moment.replace(hour=minute // 60, minute=minute % 60)
        return moment.astimezone(UTC)

    def is_holiday(self, day: date) -> bool:
        if day in self._holidays:
            return True
        code = self.spec.public_holidays
        if code is None:
            return False
        if day.year not in self._public_years:
            import holidays

            country, _, subdiv = code.partition("-")
            found = holidays.country_holidays(country, subdiv=subdiv or None, years=day.year)
            self._holidays.update(d for d in found if d.year == day.year)
            self._public_years.add(day.year)
        return day in self._holidays

    def day_intervals(self, day: date) -> tuple[Interval, ...]:
        """The local date's opening intervals, in UTC (empty on a holiday or a closed weekday)."""
        cached = self._days.get(day)
        if cached is None:
            ranges = self.week.get(day.weekday(), ())
            if not ranges or self.is_holiday(day):
                cached = ()
            else:
                cached = tuple((self._local(day, s), self._local(day, e)) for s, e in ranges)
            self._days[day] = cached
        return cached

    def is_working_day(self, day: date) -> bool:
        return bool(self.day_intervals(day))

    def day_close(self, day: date) -> datetime | None:
        intervals = self.day_intervals(day)
        return intervals[-1][1] if intervals else None

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def intervals(self, start: datetime, horizon_days: int = HORIZON_DAYS) -> Iterator[Interval]:
        """Merged opening intervals that end after `start`, in order (the first may begin before it)."""
        if self.always_open:
            yield (start - timedelta(days=1), start + timedelta(days=horizon_days))
            return
        day = self.local_date(start) - timedelta(days=1)
        pending: Interval | None = None
        for _ in range(horizon_days + 2):
            for begin, end in self.day_intervals(day):
                if pending is not None and begin <= pending[1]:
                    pending = (pending[0], max(end, pending[1]))
                    continue
                if pending is not None and pending[1] > start:
                    yield pending
                pending = (begin, end)
            day += timedelta(days=1)
        if pending is not None and pending[1] > start:
            yield pending

    def block(self, moment: datetime) -> "Block":
        """The index block whose span holds `moment` (built on first use, then reused by every query).

        Blocks are keyed by the UTC day (zone offsets are under a day, so the local day is within
        one of it) and hold the merged opening intervals of the local days from 2 before the span
        to BLOCK_AHEAD after it."""
        key = int(moment.timestamp()) // DAY // BLOCK_DAYS
        found = self._blocks.get(key)
        if found is None:
            if len(self._blocks) > 256:  # queries wander over years only in tests and timelines
                self._blocks.clear()
            found = self._blocks[key] = Block(self, key)
        return found

    def is_open(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        return self.block(moment).is_open(moment)

    def next_open(self, moment: datetime) -> datetime | None:
        """`moment` if open, else the next opening; None if closed for the whole horizon."""
        for begin, end in self.intervals(moment):
            return moment if begin <= moment else begin
        return None

    def next_opening(self, moment: datetime) -> datetime | None:
        """The first opening strictly after `moment` (when a callback is handled; None: never)."""
        if not self.always_open:
            found = self.block(moment).next_opening(moment)
            if found is not None:
                return found
        for begin, _ in self.intervals(moment):
            if begin > moment:
                return begin
        return None

    def next_change(self, moment: datetime) -> datetime | None:
        """The first instant after `moment` at which the calendar opens or closes (None: never)."""
        if self.always_open:
            return None
        found = self.block(moment).next_change(moment)
        if found is not None:
            return found
        for begin, end in self.intervals(moment):
            if begin > moment:
                return begin
            return end
        return None


class Block:
    """A calendar's merged opening intervals over a few weeks, for bisect queries.

    Answers only what the block can know: membership for an instant in its days, a next
    opening or close inside it; for anything else (a closure longer than BLOCK_AHEAD days, an
    interval running into its last day's end) it says None and the caller walks `intervals`.
    """

    def __init__(self, calendar: Calendar, key: int):
        first = date.fromordinal(date(1970, 1, 1).toordinal() + key * BLOCK_DAYS) - timedelta(days=2)
        begins: list[datetime] = []
        ends: list[datetime] = []
        day = first
        for _ in range(BLOCK_DAYS + BLOCK_AHEAD + 2):
            for begin, end in calendar.day_intervals(day):
                if ends and begin <= ends[-1]:  # merged as `intervals` merges them
                    ends[-1] = max(end, ends[-1])
                else:
                    begins.append(begin)
                    ends.append(end)
            day += timedelta(days=1)
        self.begins, self.ends = begins, ends
        self.limit = calendar._local(day - timedelta(days=1), 1440)
        """The end of the block's last day: an interval ending there may go on in the next block."""

    def is_open(self, moment: datetime) -> bool:
        i = bisect_right(self.begins, moment) - 1
        return i >= 0 and moment < self.ends[i]

    def next_opening(self, moment: datetime) -> datetime | None:
        j = bisect_right(self.begins, moment)
        return self.begins[j] if j < len(self.begins) else None

    def next_change(self, moment: datetime) -> datetime | None:
        j = bisect_right(self.begins, moment)
        if j and moment < self.ends[j - 1]:
            end = self.ends[j - 1]
            return end if end < self.limit else None
        return self.begins[j] if j < len(self.begins) else None


def subtract(intervals: Iterable[Interval], pauses: tuple[tuple[datetime, datetime | None], ...]) -> Iterator[Interval]:
    """`intervals` with the (sorted, disjoint) pause periods cut out; a pause with end None never ends."""
    for begin, end in intervals:
        cursor = begin
        for p_start, p_end in pauses:
            if p_end is not None and p_end <= cursor:
                continue
            if p_start >= end:
                break
            if p_start > cursor:
                yield (cursor, p_start)
            cursor = end if p_end is None else max(cursor, min(p_end, end))
            if cursor >= end:
                break
        if cursor < end:
            yield (cursor, end)


def counted_intervals(start: datetime, calendar: Calendar | None,
                      pauses: tuple[tuple[datetime, datetime | None], ...]) -> Iterator[Interval]:
    """The time a clock started at `start` counts: the calendar's open time (elapsed time if None), minus pauses."""
    if calendar is None:
        base: Iterable[Interval] = ((start, start + timedelta(days=HORIZON_DAYS * 4)),)
    else:
        base = ((max(b, start), e) for b, e in calendar.intervals(start) if e > start)
    return subtract(base, pauses)


def add_counted(start: datetime, seconds: int, calendar: Calendar | None,
                pauses: tuple[tuple[datetime, datetime | None], ...] = ()) -> datetime | None:
    """The instant at which `seconds` of counted time have passed since `start` (None: beyond the horizon)."""
    remaining = seconds
    if remaining <= 0:
        for begin, _ in counted_intervals(start, calendar, pauses):
            return begin if calendar is not None or pauses else start
        return None
    for begin, end in counted_intervals(start, calendar, pauses):
        length = int((end - begin).total_seconds())
        if remaining <= length:
            return begin + timedelta(seconds=remaining)
        remaining -= length
    return None


def counted_seconds(start: datetime, until: datetime, calendar: Calendar | None,
                    pauses: tuple[tuple[datetime, datetime | None], ...] = ()) -> int:
    """Counted time (see `counted_intervals`) between `start` and `until`."""
    total = 0
    if until <= start:
        return 0
    for begin, end in counted_intervals(start, calendar, pauses):
        if begin >= until:
            break
        total += int((min(end, until) - begin).total_seconds())
    return total


def add_working_days(start: datetime, days: int, calendar: Calendar,
                     paused_at: Any = None) -> datetime | None:
    """Close of the `days`-th working day after the local day of `start` (spec section 8).

    `paused_at(instant)` says whether the clock is paused then; a day whose close falls in a pause
    does not count. Zero days: the close of the start's own day if it is a working day, else the next.
    """
    day = calendar.local_date(start)
    if days == 0:
        close = calendar.day_close(day)
        if close is not None and close > start:
            return close
    counted = 0
    for _ in range(HORIZON_DAYS):
        day += timedelta(days=1)
        close = calendar.day_close(day)
        if close is None or (paused_at is not None and paused_at(close)):
            continue
        counted += 1
        if counted >= max(days, 1):
            return close
    return None
