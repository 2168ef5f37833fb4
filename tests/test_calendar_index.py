"""A calendar's bisect index (`Calendar.block`) answers as the walk over its intervals does.

is_open, next_opening and next_change run per evaluation; they read a block of merged intervals
built once. The walk over `Calendar.intervals` is the reference: calendars with DST zones,
holidays, intervals that meet at midnight (merged), round-the-clock days and long closures (the
block gives up and walks), at instants spread over years and packed around clock changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from escalator.language.time import Calendar, parse_calendar

UTC = timezone.utc

CALENDARS = [Calendar(parse_calendar(name, raw)) for name, raw in [
    ("office", {"timezone": "Europe/Amsterdam", "hours": {"mon-fri": "09:00-17:30"}, "public_holidays": "NL",
                "holidays": ["2026-12-24", "2026-12-31"]}),
    ("london", {"timezone": "Europe/London", "hours": {"mon-fri": "08:00-18:00", "sat": "10:00-14:00"},
                "public_holidays": "GB-ENG"}),
    ("night", {"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["00:00-02:30", "22:00-24:00"],
                                                          "sat-sun": "00:00-24:00"}}),  # merges across days
    ("nearly-always", {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}, "holidays": ["2026-06-01"]}),
    ("long-closure", {"timezone": "America/New_York", "hours": {"mon-fri": "09:00-17:00"},
                      "holidays": [f"2026-{month:02d}-{day:02d}" for month in (7, 8, 9) for day in range(1, 32)
                                   if (month, day) != (9, 31)]}),  # July to September: 92 days
]]
ANCHORS = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
           datetime(2026, 12, 31, 23, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 3, 8, 7, tzinfo=UTC)]
instants = st.one_of(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
    st.builds(lambda anchor, minutes: anchor + timedelta(minutes=minutes),
              st.sampled_from(ANCHORS), st.integers(-4 * 1440, 4 * 1440)),
).map(lambda moment: moment.replace(microsecond=0))


def walked(calendar: Calendar, moment: datetime) -> tuple[bool, datetime | None, datetime | None]:
    """is_open, next opening, next change: straight from the intervals, as before the index."""
    first = next(iter(calendar.intervals(moment)), None)
    is_open = first is not None and first[0] <= moment < first[1]
    opening = next((begin for begin, _ in calendar.intervals(moment) if begin > moment), None)
    change = None if first is None else first[0] if first[0] > moment else None if calendar.always_open else first[1]
    return is_open, opening, change


@settings(max_examples=400, deadline=None)
@given(index=st.integers(0, len(CALENDARS) - 1), moment=instants)
def test_the_index_answers_as_the_intervals_do(index: int, moment: datetime) -> None:
    calendar = CALENDARS[index]
    assert (calendar.is_open(moment), calendar.next_opening(moment), calendar.next_change(moment)) == \
        walked(calendar, moment)


def test_hand_computed_answers_around_a_holiday_and_a_clock_change() -> None:
    office = CALENDARS[0]
    # Thursday 24 December 2026 (operator holiday) 10:00 CET, then Christmas: next opening Monday 28th 09:00 CET
    assert not office.is_open(datetime(2026, 12, 24, 9, tzinfo=UTC))
    assert office.next_opening(datetime(2026, 12, 24, 9, tzinfo=UTC)) == datetime(2026, 12, 28, 8, tzinfo=UTC)
    # Friday 27 March 2026 16:00 UTC = 17:00 CET: closes 17:30 CET; the next opening is Monday 30th 09:00 CEST
    friday = datetime(2026, 3, 27, 16, tzinfo=UTC)
    assert office.next_change(friday) == datetime(2026, 3, 27, 16, 30, tzinfo=UTC)
    assert office.next_opening(friday) == datetime(2026, 3, 30, 7, tzinfo=UTC)
    # a closure longer than a block reaches (92 days): the walk finds Thursday 1 October 09:00 EDT
    closed = CALENDARS[4]
    assert closed.next_opening(datetime(2026, 7, 1, tzinfo=UTC)) == datetime(2026, 10, 1, 13, tzinfo=UTC)
    assert closed.next_change(datetime(2026, 7, 1, tzinfo=UTC)) == datetime(2026, 10, 1, 13, tzinfo=UTC)
