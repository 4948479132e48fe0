"""Reporting periods: days, weeks and months in the reporting time zone.

The day labelled D ends at the first `day_ends` strictly after the local midnight that
starts D, and starts where day D-1 ends: with "00:00" that is [D 00:00, D+1 00:00); with
"17:00" in New York it is [D-1 17:00, D 17:00), the FX day. Every period is half-open,
[start, end): an instant exactly at a boundary belongs to the period it opens. Weeks run
Monday..Sunday and months by calendar month, both by day label. Local times come from
zoneinfo, so a day across a DST change lasts 23 or 25 hours.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from books.settings import ReportSettings

PeriodKind = Literal["daily", "weekly", "monthly"]
KINDS: tuple[PeriodKind, ...] = ("daily", "weekly", "monthly")
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    label: date
    """The day, the week's Monday, or the month's 1st."""
    start: datetime
    end: datetime
    """Aware, in the reporting zone; the period is [start, end)."""
    day_ends: time

    @property
    def key(self) -> str:
        """`daily:2026-12-01`, `weekly:2026-11-30`, `monthly:2026-12-01`."""
        return f"{self.kind}:{self.label.isoformat()}"

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.start)

    @property
    def duration(self) -> timedelta:
        """Elapsed time (23 h on a spring-forward day). Not `end - start`: Python subtracts
        two datetimes of the same zone by wall-clock time."""
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)

    def days(self) -> list[date]:
        """The labels of the days in the period, in order."""
        last = self.end_label()
        return [self.label + timedelta(days=i) for i in range((last - self.label).days + 1)]

    def end_label(self) -> date:
        """The label of the period's last day."""
        if self.kind == "daily":
            return self.label
        if self.kind == "weekly":
            return self.label + timedelta(days=6)
        return _next_month(self.label) - _DAY

    def previous(self) -> "Period":
        return _make(self.kind, self.label - _DAY, self.zone, self.day_ends)

    def next(self) -> "Period":
        return _make(self.kind, self.end_label() + _DAY, self.zone, self.day_ends)

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def day_bounds(label: date, zone: ZoneInfo, day_ends: time) -> tuple[datetime, datetime]:
    """[start, end) of the day labelled `label`."""
    return _day_end(label - _DAY, zone, day_ends), _day_end(label, zone, day_ends)


def day_of(instant: datetime, s: ReportSettings) -> date:
    """The label of the day `instant` (aware) falls in."""
    return day_label(instant, s.timezone, s.day_ends)


def day_label(instant: datetime, zone: ZoneInfo, day_ends: time) -> date:
    local = instant.astimezone(zone).date()
    return local + _DAY if instant >= _day_end(local, zone, day_ends) else local


def period_for_date(kind: PeriodKind, day: date, s: ReportSettings) -> Period:
    """The period of `kind` that the day labelled `day` belongs to."""
    return _make(kind, day, s.timezone, s.day_ends)


def period_containing(kind: PeriodKind, instant: datetime, s: ReportSettings) -> Period:
    return period_for_date(kind, day_of(instant, s), s)


def _make(kind: PeriodKind, day: date, zone: ZoneInfo, day_ends: time) -> Period:
    if kind == "daily":
        first, last = day, day
    elif kind == "weekly":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=6)
    elif kind == "monthly":
        first = day.replace(day=1)
        last = _next_month(first) - _DAY
    else:
        raise ValueError(f"unknown period kind {kind!r}; use daily, weekly or monthly")
    start = day_bounds(first, zone, day_ends)[0]
    end = _day_end(last, zone, day_ends)
    return Period(kind, first, start, end, day_ends)


def _day_end(label: date, zone: ZoneInfo, day_ends: time) -> datetime:
    """The first `day_ends` strictly after the local midnight that starts `label`."""
    if day_ends == time(0, 0):
        return _local(label + _DAY, time(0, 0), zone)
    return _local(label, day_ends, zone)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Local wall-clock time, normalised (a time in a spring-forward gap moves past it)."""
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")).astimezone(zone)


def _zone(instant: datetime) -> ZoneInfo:
    tz = instant.tzinfo
    assert isinstance(tz, ZoneInfo)
    return tz


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)
