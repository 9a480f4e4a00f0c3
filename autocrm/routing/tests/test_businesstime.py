"""Business-time arithmetic: DST changes, holidays, time zones, overlapping hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autocrm.routing.businesstime import (
    Calendar,
    CalendarError,
    Hours,
    hours_as_rows,
    parse_hours,
    zone,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
WEEKDAYS_9_TO_5 = [
    {"day": d, "start": "09:00", "end": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")
]


def cal(tz: ZoneInfo = NY, rows=WEEKDAYS_9_TO_5, holidays=()) -> Calendar:  # type: ignore[no-untyped-def]
    return Calendar(tz, parse_hours(rows), holidays)


def local(tz: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)  # type: ignore[arg-type,misc]


def test_adding_within_one_day_and_across_the_night() -> None:
    c = cal()
    monday_10 = local(NY, 2026, 3, 2, 10, 0)
    assert c.add(monday_10, 3600) == local(NY, 2026, 3, 2, 11, 0)
    # 8 hours from Monday 10:00: 7 on Monday, 1 on Tuesday from 09:00.
    assert c.add(monday_10, 8 * 3600) == local(NY, 2026, 3, 3, 10, 0)


def test_a_start_outside_hours_begins_at_the_next_opening() -> None:
    c = cal()
    friday_evening = local(NY, 2026, 3, 6, 18, 30)
    assert c.add(friday_evening, 0) == local(NY, 2026, 3, 9, 9, 0)
    assert c.add(friday_evening, 30 * 60) == local(NY, 2026, 3, 9, 9, 30)


def test_spring_forward_keeps_wall_clock_hours() -> None:
    """US clocks jump 02:00 -> 03:00 on Sunday 8 March 2026. Friday 16:00 + 2 business hours
    is Monday 10:00 New York time, which is 14:00 UTC (EDT) rather than 15:00 (EST)."""
    c = cal()
    due = c.add(local(NY, 2026, 3, 6, 16, 0), 2 * 3600)
    assert due == local(NY, 2026, 3, 9, 10, 0)
    assert due.astimezone(UTC) == dt.datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def test_a_round_the_clock_day_is_23_or_25_hours_long_when_the_clocks_move() -> None:
    all_sunday = [{"day": "sun", "start": "00:00", "end": "24:00"}]
    c = cal(BERLIN, all_sunday)
    spring = local(BERLIN, 2026, 3, 29, 0, 0)  # 02:00 -> 03:00
    autumn = local(BERLIN, 2026, 10, 25, 0, 0)  # 03:00 -> 02:00
    assert c.between(spring, spring + dt.timedelta(days=2)) == 23 * 3600
    assert c.between(autumn, autumn + dt.timedelta(days=2)) == 25 * 3600


def test_hours_never_start_inside_the_spring_gap() -> None:
    c = cal(NY, [{"day": "sun", "start": "02:30", "end": "04:00"}])
    opening = c.add(local(NY, 2026, 3, 8, 0, 0), 0)
    assert opening.astimezone(NY).hour == 3  # 02:30 does not exist; the gap ends at 03:00
    assert c.between(local(NY, 2026, 3, 8, 0, 0), local(NY, 2026, 3, 8, 5, 0)) == 30 * 60


def test_fall_back_counts_real_time_in_the_repeated_hour() -> None:
    c = cal(NY, [{"day": "sun", "start": "00:00", "end": "04:00"}])
    start = local(NY, 2026, 11, 1, 0, 0)
    assert c.between(start, start + dt.timedelta(days=1)) == 5 * 3600  # 01:00-02:00 twice


def test_holidays_are_closed_all_day() -> None:
    c = cal(holidays=[dt.date(2026, 12, 25)])
    thursday_16 = local(NY, 2026, 12, 24, 16, 0)
    assert c.add(thursday_16, 2 * 3600) == local(NY, 2026, 12, 28, 10, 0)  # Fri holiday, weekend
    assert not c.is_open(local(NY, 2026, 12, 25, 11, 0))
    assert c.is_open(local(NY, 2026, 12, 24, 11, 0))


def test_time_zones_place_the_same_hours_at_different_instants() -> None:
    instant = dt.datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # Monday
    assert cal(BERLIN).is_open(instant)  # 10:00 in Berlin
    assert not cal(NY).is_open(instant)  # 04:00 in New York
    assert cal(NY).add(instant, 0) == dt.datetime(2026, 6, 1, 13, 0, tzinfo=UTC)


def test_several_ranges_a_day_and_the_gap_between_them() -> None:
    rows = [
        {"day": "mon", "start": "13:00", "end": "17:00"},
        {"day": "mon", "start": "08:00", "end": "12:00"},
    ]
    c = cal(rows=rows)
    assert c.add(local(NY, 2026, 3, 2, 11, 0), 2 * 3600) == local(NY, 2026, 3, 2, 14, 0)
    assert c.between(local(NY, 2026, 3, 2, 0, 0), local(NY, 2026, 3, 3, 0, 0)) == 8 * 3600


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        (
            [
                {"day": "mon", "start": "09:00", "end": "12:00"},
                {"day": "mon", "start": "11:00", "end": "13:00"},
            ],
            "hours",
        ),
        ([{"day": "mon", "start": "09:00", "end": "09:00"}], "hours.0"),
        ([{"day": "funday", "start": "09:00", "end": "10:00"}], "hours.0.day"),
        ([{"day": "mon", "start": "9am", "end": "10:00"}], "hours.0.start"),
        ([{"day": "mon", "start": "09:00", "end": "24:30"}], "hours.0.end"),
    ],
)
def test_bad_hours_name_the_field(rows, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CalendarError) as err:
        parse_hours(rows)
    assert err.value.field == field


def test_touching_ranges_are_not_an_overlap() -> None:
    rows = [
        {"day": "mon", "start": "09:00", "end": "12:00"},
        {"day": "mon", "start": "12:00", "end": "13:00"},
    ]
    assert hours_as_rows(parse_hours(rows)) == rows


def test_unknown_zones_and_empty_calendars_are_refused() -> None:
    for name in ["Mars/Olympus", "", "../etc/passwd", "America/New_York "]:
        with pytest.raises(CalendarError) as err:
            zone(name)
        assert err.value.field == "time_zone"
    with pytest.raises(CalendarError):
        Calendar(NY, [])


def test_a_calendar_closed_past_the_horizon_raises_instead_of_looping() -> None:
    c = Calendar(
        NY, [Hours(0, 540, 600)], [dt.date(2026, 1, 5) + dt.timedelta(weeks=w) for w in range(200)]
    )
    with pytest.raises(CalendarError):
        c.add(local(NY, 2026, 1, 1, 0, 0), 60)


def test_always_open_is_calendar_time() -> None:
    start = dt.datetime(2026, 3, 7, 23, 0, tzinfo=UTC)
    assert Calendar.always_open().add(start, 5 * 3600) == start + dt.timedelta(hours=5)


@given(
    start=st.datetimes(
        min_value=dt.datetime(2025, 1, 1),
        max_value=dt.datetime(2027, 12, 31),
        timezones=st.just(UTC),
    ),
    seconds=st.integers(min_value=0, max_value=200 * 3600),
)
def test_add_and_between_agree(start: dt.datetime, seconds: int) -> None:
    """For any start and duration (DST changes of both zones included), the business time
    between start and add(start, s) is s, and the result is inside opening hours."""
    for tz in (NY, BERLIN):
        c = cal(tz, holidays=[dt.date(2026, 12, 25), dt.date(2026, 3, 9)])
        due = c.add(start, seconds)
        assert c.between(start, due) == pytest.approx(seconds)
        if seconds:
            assert c.is_open(due - dt.timedelta(microseconds=1))
