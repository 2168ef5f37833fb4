"""Calendars at run time: opening hours in UTC, per local day and cached, the queries an
evaluation asks (open now? next opening? next change?) and working-time arithmetic.

The compiled form (`CalendarSpec`, parsed and checked from a policy) is in
`escalator.language.time`; this is what `escalator.runtime.clock` computes with. DST is
handled by the zone data: 09:00-17:30 on the day the clocks change is still 8.5 hours.
Intervals are half-open ([open, close)) and adjacent intervals merge, also across midnight.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from escalator.language.time import DAY, UTC, CalendarSpec

HORIZON_DAYS = 800
"""How far ahead calendar searches look (a calendar closed for longer never opens again)."""
BLOCK_DAYS = 32
"""The span of one block of a calendar's opening-hours index (see `Calendar.block`)."""
BLOCK_AHEAD = 40
"""Days an index block reaches past its span: a next opening or close within them is a bisect away."""

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

    def local_instant(self, day: date, minute: int) -> datetime:
        """`minute` (0-1440) of the local `day`, in UTC."""
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
            from escalator.language import public_holidays

            self._holidays.update(public_holidays.holidays_in(code, day.year))
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
                cached = tuple((self.local_instant(day, s), self.local_instant(day, e)) for s, e in ranges)
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
        self.limit = calendar.local_instant(day - timedelta(days=1), 1440)
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
