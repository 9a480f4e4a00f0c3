"""Keyset (cursor) pagination: stable under inserts, O(limit) at any depth.

Every list endpoint takes the same two query parameters and returns the same shape::

    def things_list(request, cursor: str | None = Cursor, limit: int = Limit):
        page = keyset_page(things, ordering=("user__email", "id"), cursor=cursor, limit=limit)
        return page_response(page)

The ordering must end with a unique, non-null field (the primary key), every field in it
must be non-null. The cursor is opaque to clients: URL-safe base64 of the last row's
ordering values plus the ordering itself, so a cursor from another listing is refused.
A cursor that does not decode is a 422 problem naming ``query.cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models
from django.db.models import Q, QuerySet
from ninja import Query

from autocrm.core.problems import InvalidInput

M = TypeVar("M", bound=models.Model)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CURSOR_FIELD = "query.cursor"

# The query parameters of every list endpoint (``cursor: str | None = Cursor``,
# ``limit: int = Limit``): one description, and the advertised maximum is the enforced one.
Cursor: Any = Query(None, description="`next_cursor` of the previous page.")
Limit: Any = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")


@dataclass(frozen=True)
class KeysetPage(Generic[M]):
    items: list[M]
    next_cursor: str | None


class Page(Protocol):
    """Any page of a listing: a :class:`KeysetPage` or an app's own (tickets' search)."""

    @property
    def items(self) -> Sequence[Any]: ...

    @property
    def next_cursor(self) -> str | None: ...


def page_response(page: Page) -> dict[str, Any]:
    """The body of every list endpoint (the ``page_of(Item)`` schema)."""
    return {"items": page.items, "next_cursor": page.next_cursor}


def _model_field(model: type[models.Model], path: str) -> models.Field[Any, Any]:
    parts = path.split("__")
    for part in parts[:-1]:
        related = model._meta.get_field(part)
        if related.related_model is None:
            raise FieldDoesNotExist(f"{path}: {part} is not a relation")
        model = related.related_model
    return model._meta.get_field(parts[-1])  # type: ignore[return-value]


def _value_of(obj: models.Model, path: str) -> Any:
    value: Any = obj
    for part in path.split("__"):
        value = getattr(value, part)
    return value


def _encode(ordering: Sequence[str], values: list[Any]) -> str:
    payload = {
        "o": ",".join(ordering),
        "v": [
            v.isoformat()
            if hasattr(v, "isoformat")
            else v
            if isinstance(v, int | float)
            else str(v)
            for v in values
        ],
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> InvalidInput:
    return InvalidInput.for_field(
        CURSOR_FIELD,
        "This cursor is invalid or belongs to another listing; start again without a cursor.",
    )


def _decode(model: type[models.Model], ordering: Sequence[str], cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise _bad_cursor() from exc
    if (
        not isinstance(payload, dict)
        or payload.get("o") != ",".join(ordering)
        or not isinstance(payload.get("v"), list)
        or len(payload["v"]) != len(ordering)
    ):
        raise _bad_cursor()
    return [
        _cursor_value(_model_field(model, path.lstrip("-")), value)
        for path, value in zip(ordering, payload["v"], strict=True)
    ]


def _cursor_value(field: models.Field[Any, Any], value: Any) -> Any:
    """One decoded value as ``field`` holds it, or a 422: a cursor is client input, and a
    value of the wrong type or out of the column's range must not reach the query."""
    if value is None or isinstance(value, bool | dict | list):
        raise _bad_cursor()
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad_cursor()
    if isinstance(value, str) and "\x00" in value:
        raise _bad_cursor()
    if isinstance(field, models.DateField | models.DateTimeField) and not isinstance(value, str):
        raise _bad_cursor()
    try:
        result = field.to_python(value)
    except (ValidationError, ValueError, TypeError, OverflowError) as exc:
        raise _bad_cursor() from exc
    if isinstance(field, models.IntegerField):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if (
            not isinstance(value, int)  # cursors carry integers as JSON integers
            or not (low is None or low <= result)
            or not (high is None or result <= high)
        ):
            raise _bad_cursor()
    return result


def _after(ordering: Sequence[str], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in ``ordering`` (mixed directions allowed):
    (a > x) OR (a = x AND b > y) OR ..."""
    condition = Q()
    for i, path in enumerate(ordering):
        name = path.lstrip("-")
        lookup = "lt" if path.startswith("-") else "gt"
        branch = Q(**{f"{name}__{lookup}": values[i]})
        for prev_path, prev_value in zip(ordering[:i], values[:i], strict=True):
            branch &= Q(**{prev_path.lstrip("-"): prev_value})
        condition |= branch
    # The same rows, plus a range on the first key alone: PostgreSQL cannot start an index
    # scan from an OR, so without it a page deep in a million-row list walked (or sorted)
    # everything before the cursor (1.75 s of CPU a page in the crm bench).
    first = ordering[0].lstrip("-")
    bound = "lte" if ordering[0].startswith("-") else "gte"
    return Q(**{f"{first}__{bound}": values[0]}) & condition


def page_position(
    model: type[models.Model], ordering: Sequence[str], cursor: str | None, limit: int
) -> tuple[list[Any] | None, int]:
    """Where :func:`keyset_page` will cut: the cursor's ordering values (None: the first
    page) and how many rows it fetches. For a selector that can narrow its rows to a page
    before the page is cut; a bad cursor raises here as it would there."""
    values = _decode(model, ordering, cursor) if cursor else None
    return values, max(1, min(limit, MAX_LIMIT)) + 1


def keyset_page(
    queryset: QuerySet[M],
    *,
    ordering: Sequence[str],
    cursor: str | None,
    limit: int = DEFAULT_LIMIT,
) -> KeysetPage[M]:
    """One page of ``queryset`` in ``ordering`` after ``cursor`` (None: the first page)."""
    if not ordering:
        raise ValueError("keyset_page needs an ordering ending in a unique field")
    limit = max(1, min(limit, MAX_LIMIT))
    if cursor:
        queryset = queryset.filter(_after(ordering, _decode(queryset.model, ordering, cursor)))
    rows = list(queryset.order_by(*ordering)[: limit + 1])
    items, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last = items[-1]
        next_cursor = _encode(ordering, [_value_of(last, p.lstrip("-")) for p in ordering])
    return KeysetPage(items=items, next_cursor=next_cursor)
