"""The shared request types of autocrm.core.api.schemas."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import TypeAdapter, ValidationError

from autocrm.core.api.schemas import DateTimeIn

date_time_in: TypeAdapter[dt.datetime] = TypeAdapter(DateTimeIn)


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00-05:00",
        "9999-12-31T23:59:59Z",
        "9999-12-31T20:00:00-03:00",
        "2026-11-30T12:00:00+01:00",
    ],
)
def test_a_date_time_representable_in_utc_is_accepted(value: str) -> None:
    parsed = date_time_in.validate_python(value)
    assert parsed.tzinfo is not None and 1 <= parsed.astimezone(dt.UTC).year <= 9999


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0001-01-01T00:00:00+14:00", "between years 1 and 9999"),  # year 0 in UTC
        ("9999-12-31T23:00:00-05:00", "between years 1 and 9999"),  # year 10000 in UTC
        ("2026-11-30T12:00:00", "timezone"),  # naive: which offset?
        ("not a date", "datetime"),
    ],
)
def test_a_date_time_outside_utc_years_1_to_9999_or_without_offset_is_refused(
    value: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        date_time_in.validate_python(value)
