"""Business-time arithmetic: weekly opening hours and holidays in one IANA time zone.

Pure (no database): a :class:`Calendar` is built from plain values and answers
"when is ``start`` plus N business seconds" (:meth:`Calendar.add`), "how many business
seconds lie between two instants" (:meth:`Calendar.between`) and "is it open now".

Hours are wall-clock times in the calendar's zone, so 09:00-17:00 stays 09:00-17:00 across a
DST change; the arithmetic itself runs on aware UTC instants, so a day whose hours span the
change (00:00-24:00 on the night the clocks move) counts its real 23 or 25 hours. A wall time
that does not exist (02:30 on a spring-forward night) is read with ``fold=0``, i.e. at the
offset before the change, which lands just after the gap: hours never start inside it.

No library fitted (docs/adr/0018-business-time.md): the maintained ones count days only, or use
pytz, or cannot add a duration; this is ~150 lines and tested on its own.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
# How far add() looks for open hours before giving up (a calendar closed for a year and a
# day, e.g. every weekday a holiday, has no answer worth waiting for).
HORIZON_DAYS = 366 * 2
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class CalendarError(ValueError):
    """A calendar definition that cannot be used; ``field`` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, order=True)
class Hours:
    """Open from ``start`` to ``end`` minutes after local midnight on ``weekday`` (0 = Monday);
    ``end`` may be 1440 (24:00)."""

    weekday: int
    start: int
    end: int


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` or a CalendarError (never a bare path or an empty name)."""
    if not name or name not in _zone_names():
        raise CalendarError("time_zone", f"Unknown time zone {name!r}; use an IANA name.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError("time_zone", f"Unknown time zone {name!r}.") from exc


_ZONES: frozenset[str] | None = None


def _zone_names() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


def parse_minute(value: str, field: str) -> int:
    match = _HHMM.match(value or "")
    if not match:
        raise CalendarError(field, f"{value!r} is not a time like 09:00.")
    minutes = int(match[1]) * 60 + int(match[2])
    if minutes > MINUTES_PER_DAY:
        raise CalendarError(field, f"{value!r} is past 24:00.")
    return minutes


def format_minute(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hours(rows: Iterable[Any]) -> list[Hours]:
    """``[{"day": "mon", "start": "09:00", "end": "17:00"}, ...]`` checked: known days, start
    before end, and no two ranges of one day overlapping (or touching twice)."""
    hours: list[Hours] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise CalendarError(f"hours.{i}", "Each range is {day, start, end}.")
        day = str(row.get("day", "")).lower()
        if day not in WEEKDAYS:
            raise CalendarError(f"hours.{i}.day", f"Use one of {', '.join(WEEKDAYS)}.")
        start = parse_minute(str(row.get("start", "")), f"hours.{i}.start")
        end = parse_minute(str(row.get("end", "")), f"hours.{i}.end")
        if start == MINUTES_PER_DAY or end <= start:
            raise CalendarError(f"hours.{i}", "Each range must end after it starts.")
        hours.append(Hours(WEEKDAYS.index(day), start, end))
    hours.sort()
    for prev, cur in itertools.pairwise(hours):
        if prev.weekday == cur.weekday and cur.start < prev.end:
            raise CalendarError(
                "hours",
                f"{WEEKDAYS[cur.weekday]} {format_minute(prev.start)}-{format_minute(prev.end)} "
                f"overlaps {format_minute(cur.start)}-{format_minute(cur.end)}.",
            )
    return hours


def hours_as_rows(hours: Iterable[Hours]) -> list[dict[str, str]]:
    return [
        {"day": WEEKDAYS[h.weekday], "start": format_minute(h.start), "end": format_minute(h.end)}
        for h in sorted(hours)
    ]


class Calendar:
    """Weekly hours plus holidays (whole local dates, closed all day) in ``tz``."""

    def __init__(
        self, tz: ZoneInfo, hours: Iterable[Hours], holidays: Iterable[dt.date] = ()
    ) -> None:
        self.tz = tz
        self.by_weekday: list[list[Hours]] = [[] for _ in WEEKDAYS]
        for h in sorted(hours):
            self.by_weekday[h.weekday].append(h)
        self.holidays = frozenset(holidays)
        if not any(self.by_weekday):
            raise CalendarError("hours", "Give at least one range of opening hours.")

    @classmethod
    def always_open(cls) -> Calendar:
        """Calendar hours: every second counts (for SLA targets not in business hours)."""
        return cls(ZoneInfo("UTC"), [Hours(d, 0, MINUTES_PER_DAY) for d in range(7)])

    def _local(self, day: dt.date, minute: int) -> dt.datetime:
        base = dt.datetime.combine(day, dt.time(0), tzinfo=self.tz)
        if minute == MINUTES_PER_DAY:  # 24:00 is the next day's midnight, in its own offset
            base = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz)
            return base.astimezone(dt.UTC)
        wall = base.replace(hour=minute // 60, minute=minute % 60)
        return wall.astimezone(dt.UTC)

    def _segments(self, since: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open (start, end) UTC instants ending after ``since``, in order, up to the horizon."""
        day = since.astimezone(self.tz).date() - dt.timedelta(days=1)
        for _ in range(HORIZON_DAYS):
            if day not in self.holidays:
                for h in self.by_weekday[day.weekday()]:
                    start, end = self._local(day, h.start), self._local(day, h.end)
                    if end > since and end > start:
                        yield start, end
            day += dt.timedelta(days=1)

    def add(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The instant when ``seconds`` of open time have passed since ``start`` (with 0: the
        next open moment at or after ``start``)."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        remaining = dt.timedelta(seconds=max(0.0, seconds))
        start = start.astimezone(dt.UTC)
        for seg_start, seg_end in self._segments(start):
            begin = max(seg_start, start)
            if remaining <= seg_end - begin:
                return begin + remaining
            remaining -= seg_end - begin
        raise CalendarError("hours", "No opening hours within two years; check the holidays.")

    def between(self, a: dt.datetime, b: dt.datetime) -> float:
        """Open seconds from ``a`` to ``b`` (0 when ``b`` is not after ``a``)."""
        if a.tzinfo is None or b.tzinfo is None:
            raise ValueError("a and b must be timezone-aware")
        a, b = a.astimezone(dt.UTC), b.astimezone(dt.UTC)
        total = dt.timedelta(0)
        if b <= a:
            return 0.0
        for seg_start, seg_end in self._segments(a):
            if seg_start >= b:
                break
            total += min(seg_end, b) - max(seg_start, a)
        return total.total_seconds()

    def is_open(self, at: dt.datetime) -> bool:
        local = at.astimezone(self.tz)
        if local.date() in self.holidays:
            return False
        for seg_start, seg_end in self._segments(at):
            if seg_start > at:
                return False
            if seg_start <= at < seg_end:
                return True
        return False
