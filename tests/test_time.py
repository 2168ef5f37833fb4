"""escalator.language.time: durations, calendars, DST and holidays, with instants computed by hand."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from escalator.language.calendars import Calendar, add_counted, add_working_days, counted_seconds
from escalator.language.time import Duration, parse_calendar, parse_duration, parse_instant


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


OFFICE = Calendar(parse_calendar("office", {
    "timezone": "Europe/Amsterdam", "hours": {"mon-fri": "09:00-17:30", "sat": "10:00-14:00"},
    "holidays": ["2026-12-25", "2026-12-26", "2027-01-01"]}))
EVERY_DAY = Calendar(parse_calendar("x", {"timezone": "Europe/Amsterdam", "hours": {"mon-sun": "09:00-17:30"}}))


def test_durations_parse_to_typed_values():
    assert parse_duration("30m") == Duration(30, "m") and parse_duration("30m").seconds == 1800
    assert parse_duration("8w").seconds == 8 * 7 * 86400
    assert parse_duration("4wh").working and parse_duration("4wh").seconds == 4 * 3600
    assert parse_duration("3wd").working and str(parse_duration("3wd")) == "3wd"
    for bad in ("3 fortnights", "1.5h", "h", "-3d", 3):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        parse_instant("2026-11-23T10:00:00")
    assert parse_instant("2026-11-23T11:00:00+01:00") == utc("2026-11-23T10:00:00Z")


def test_a_clock_change_day_is_still_eight_and_a_half_hours():
    # 29 March 2026: the Netherlands go from CET (+01:00) to CEST (+02:00) at 02:00.
    [(begin, end)] = EVERY_DAY.day_intervals(date(2026, 3, 29))
    assert begin == utc("2026-03-29T07:00:00Z") and end == utc("2026-03-29T15:30:00Z")
    # 25 October 2026: back to CET.
    [(begin, end)] = EVERY_DAY.day_intervals(date(2026, 10, 25))
    assert begin == utc("2026-10-25T08:00:00Z") and end == utc("2026-10-25T16:30:00Z")
    assert (end - begin).total_seconds() == 8.5 * 3600


def test_working_hours_run_across_the_spring_clock_change():
    # Saturday 28 March 13:00 CET (12:00Z): 1 working hour left that day (to 14:00 CET = 13:00Z);
    # Sunday closed; Monday 30 March opens 09:00 CEST = 07:00Z, 3 more hours -> 10:00Z.
    assert add_counted(utc("2026-03-28T12:00:00Z"), 4 * 3600, OFFICE) == utc("2026-03-30T10:00:00Z")


def test_working_days_skip_holidays_and_closed_days():
    # From Wednesday 23 Dec 2026: Thu 24 (1), Fri 25 and Sat 26 holidays, Sun closed,
    # Mon 28 (2), Tue 29 (3): close at 17:30 CET = 16:30Z.
    assert add_working_days(utc("2026-12-23T10:00:00Z"), 3, OFFICE) == utc("2026-12-29T16:30:00Z")


def test_public_holidays_come_from_the_holidays_library():
    nl = Calendar(parse_calendar("nl", {"timezone": "Europe/Amsterdam", "hours": {"mon-fri": "09:00-17:30"},
                                        "public_holidays": "NL"}))
    assert not nl.is_working_day(date(2027, 4, 27))  # King's Day 2027, a Tuesday
    assert nl.is_working_day(date(2027, 4, 28))
    assert not nl.is_open(utc("2026-04-06T10:00:00Z"))  # Easter Monday 2026


def test_hours_are_half_open_and_adjacent_intervals_merge():
    assert OFFICE.is_open(utc("2026-11-23T08:00:00Z"))       # 09:00 CET: open
    assert not OFFICE.is_open(utc("2026-11-23T16:30:00Z"))   # 17:30 CET: closed
    split = Calendar(parse_calendar("s", {"timezone": "UTC", "hours": {"mon": ["09:00-12:00", "12:00-17:00"]}}))
    assert split.next_change(utc("2026-11-23T10:00:00Z")) == utc("2026-11-23T17:00:00Z")
    always = Calendar(parse_calendar("a", {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}}))
    assert always.is_open(utc("2026-11-23T00:00:00Z")) and always.next_change(utc("2026-11-23T00:00:00Z")) is None
    nightly = Calendar(parse_calendar("n", {"timezone": "UTC", "hours": {"mon": "20:00-24:00", "tue": "00:00-04:00"}}))
    assert nightly.next_change(utc("2026-11-23T21:00:00Z")) == utc("2026-11-24T04:00:00Z")  # one interval


def test_next_open_and_next_change():
    friday_evening = utc("2026-11-20T18:00:00Z")
    assert OFFICE.next_open(friday_evening) == utc("2026-11-21T09:00:00Z")   # Saturday 10:00 CET
    assert OFFICE.next_change(utc("2026-11-21T10:00:00Z")) == utc("2026-11-21T13:00:00Z")
    assert OFFICE.next_open(utc("2026-11-23T10:00:00Z")) == utc("2026-11-23T10:00:00Z")  # open: now


def test_counted_time_leaves_out_pauses():
    start = utc("2026-11-02T09:00:00Z")
    pause = ((utc("2026-11-04T09:00:00Z"), utc("2026-11-11T09:00:00Z")),)
    # 8 weeks of elapsed time plus the 7 paused days
    assert add_counted(start, 8 * 7 * 86400, None, pause) == utc("2027-01-04T09:00:00Z")
    assert counted_seconds(start, utc("2026-11-30T09:00:00Z"), None, pause) == 21 * 86400
    open_ended = ((utc("2026-11-04T09:00:00Z"), None),)
    assert counted_seconds(start, utc("2026-11-30T09:00:00Z"), None, open_ended) == 2 * 86400


@pytest.mark.parametrize("raw,message", [
    ({"timezone": "Mars/Olympus", "hours": {"mon": "09:00-17:00"}}, "unknown timezone"),
    ({"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00", "fri": "16:00-18:00"}}, "overlapping hours on fri"),
    ({"timezone": "UTC", "hours": {"mon": "17:00-09:00"}}, "closes before it opens"),
    ({"timezone": "UTC", "hours": {"mon": "9-5"}}, "not opening hours"),
    ({"timezone": "UTC", "hours": {"mon": "09:00-25:00"}}, "not a time of day"),
    ({"timezone": "UTC", "hours": {"fri-mon": "09:00-17:00"}}, "runs forwards"),
    ({"timezone": "UTC", "hours": {"funday": "09:00-17:00"}}, "not a weekday"),
    ({"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": ["Christmas"]}, "not a date"),
    ({"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "public_holidays": "XQ"}, "no public holidays"),
    ({"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "colour": "red"}, "unknown calendar key"),
])
def test_bad_calendars_are_clear_errors(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_calendar("c", raw)
