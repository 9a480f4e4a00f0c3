"""The agent search syntax, parsed into structured filters.

    status:open,pending priority:high tag:billing -tag:spam "exact phrase" assignee:me
    team:3 requester:pat@example.com type:incident channel:email cf.plan:pro
    created>2025-01-01 updated<2025-02-01 due<2025-03-01 is:unassigned sort:priority

Anything that is not ``key:value`` is free text (full-text + typo-tolerant subject match).
Unknown keys and bad values raise ``QuerySyntaxError`` naming the term.

The API's filter parameters (``?tag=…``) are not search text: ``filter_apply`` adds one
typed value to the filters as it is, so quotes or spaces in it cannot become more terms.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from dataclasses import dataclass, field

from autocrm.tickets.models import PRIORITY_BY_NAME, Channel, Status, TicketType

SORTS = (
    "-updated_at",
    "updated_at",
    "-created_at",
    "created_at",
    "priority",
    "-number",
    "number",
    "relevance",
)
_TERM = re.compile(r"^(-?)([a-z_]+(?:\.[a-z0-9_-]+)?)(:|>=|<=|>|<)(.+)$", re.DOTALL)
# Filters the API also takes as query parameters (each value applied by filter_apply).
FILTER_KEYS = ("status", "priority", "assignee", "team", "tag", "type", "channel", "requester")
# Ids are PostgreSQL bigints: a larger number can match nothing and would fail in SQL.
MAX_ID = 2**63 - 1
_DATE_KEYS = {
    "created": "created_at",
    "updated": "updated_at",
    "due": "due_at",
    "solved": "solved_at",
}


class QuerySyntaxError(ValueError):
    def __init__(self, term: str, reason: str) -> None:
        super().__init__(f"{term}: {reason}")
        self.term = term
        self.reason = reason


@dataclass
class TicketFilters:
    statuses: list[str] = field(default_factory=list)
    priorities: list[int] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    tags_all: list[str] = field(default_factory=list)
    tags_none: list[str] = field(default_factory=list)
    assignee: str | int | None = None  # "me", "none" or a user id
    team: str | int | None = None  # "none" or a team id
    requester_email: str | None = None
    requester_id: int | None = None
    organization_id: int | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)
    date_ranges: list[tuple[str, str, dt.datetime]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    sort: str | None = None

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def has_text(self) -> bool:
        return bool(self.words or self.phrases)


def _parse_date(term: str, value: str, *, end: bool) -> dt.datetime:
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
            return moment + dt.timedelta(days=1) if end else moment
        parsed = dt.datetime.fromisoformat(value)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        # In UTC, as the database compares it: an offset must not carry it past year 1-9999.
        return parsed.astimezone(dt.UTC)
    except ValueError as exc:
        raise QuerySyntaxError(term, "expected a date like 2025-01-31") from exc
    except OverflowError as exc:  # the day after 9999-12-31, or an offset past the range
        raise QuerySyntaxError(term, "the date is out of range") from exc


def _choices(term: str, value: str, allowed: list[str]) -> list[str]:
    values = [v for v in value.split(",") if v]
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise QuerySyntaxError(term, f"use one of {', '.join(allowed)}")
    return values


def is_digits(value: str) -> bool:
    """Only 0-9: ``str.isdigit`` also accepts "²" and other digits ``int()`` refuses."""
    return value.isascii() and value.isdigit()


def _int(term: str, value: str) -> int:
    if not is_digits(value):
        raise QuerySyntaxError(term, "expected a number")
    number = int(value)
    if number > MAX_ID:
        raise QuerySyntaxError(term, "the number is out of range")
    return number


def parse_query(query: str) -> TicketFilters:
    filters = TicketFilters()
    try:
        tokens = shlex.split(query or "", posix=True)
    except ValueError as exc:
        raise QuerySyntaxError(query, "unbalanced quotes") from exc
    raw_tokens = set(re.findall(r'"([^"]*)"', query or ""))
    for token in tokens:
        if token in raw_tokens and " " in token:
            filters.phrases.append(token)
            continue
        match = _TERM.match(token)
        if match is None:
            if token in raw_tokens:
                filters.phrases.append(token)
            elif token.strip():
                filters.words.append(token)
            continue
        negate, key, op, value = match.groups()
        _apply_term(filters, token, negate == "-", key, op, value)
    return filters


def filter_apply(filters: TicketFilters, key: str, value: str) -> None:
    """Add one filter given as a typed value (an API parameter): the value is taken whole,
    never split into search terms. ``key`` is one of FILTER_KEYS or ``sort``."""
    if key not in (*FILTER_KEYS, "sort"):
        raise QuerySyntaxError(key, "unknown filter")
    _apply_term(filters, f"{key}:{value}", False, key, ":", value)


def _apply_term(f: TicketFilters, term: str, negate: bool, key: str, op: str, value: str) -> None:
    if negate and key != "tag":
        raise QuerySyntaxError(term, "only tag: can be negated")
    if op != ":" and key not in _DATE_KEYS:
        raise QuerySyntaxError(term, "comparisons work with created, updated, due, solved")
    if key == "status":
        f.statuses += _choices(term, value, list(Status.values))
    elif key == "priority":
        f.priorities += [PRIORITY_BY_NAME[v] for v in _choices(term, value, list(PRIORITY_BY_NAME))]
    elif key == "type":
        f.types += _choices(term, value, list(TicketType.values))
    elif key == "channel":
        f.channels += _choices(term, value, list(Channel.values))
    elif key == "tag":
        (f.tags_none if negate else f.tags_all).extend(v.lower() for v in value.split(",") if v)
    elif key == "assignee":
        f.assignee = value if value in {"me", "none"} else _int(term, value)
    elif key == "team":
        f.team = "none" if value == "none" else _int(term, value)
    elif key == "requester":
        if is_digits(value):
            f.requester_id = _int(term, value)
        else:
            f.requester_email = value
    elif key in {"organization", "org"}:
        f.organization_id = _int(term, value)
    elif key == "is":
        if value == "unassigned":
            f.assignee = "none"
        elif value in Status.values:
            f.statuses.append(value)
        else:
            raise QuerySyntaxError(term, "use is:unassigned or is:<status>")
    elif key == "sort":
        if value not in SORTS:
            raise QuerySyntaxError(term, f"use one of {', '.join(SORTS)}")
        f.sort = value
    elif key.startswith("cf."):
        f.custom_fields[key[3:]] = value
    elif key in _DATE_KEYS:
        if op == ":":
            start = _parse_date(term, value, end=False)
            f.date_ranges.append((_DATE_KEYS[key], "gte", start))
            f.date_ranges.append((_DATE_KEYS[key], "lt", _parse_date(term, value, end=True)))
        elif len(value) == 10:  # a whole day: > means from the next day, <= up to its end
            lookup = {">": "gte", ">=": "gte", "<": "lt", "<=": "lt"}[op]
            f.date_ranges.append(
                (_DATE_KEYS[key], lookup, _parse_date(term, value, end=op in {">", "<="}))
            )
        else:
            lookup = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}[op]
            f.date_ranges.append((_DATE_KEYS[key], lookup, _parse_date(term, value, end=False)))
    else:
        raise QuerySyntaxError(term, "unknown filter")
