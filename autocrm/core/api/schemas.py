"""Schema bases every API module uses.

- :class:`RequestSchema` for every request body: unknown fields are a 422, not ignored.
- :class:`PatchSchema` for partial updates: a field left out keeps its value; ``null`` is
  refused with a 422 naming the field unless the field is listed in ``NULLABLE``.
- :class:`ProblemOut` documents the problem+json error body.
- :func:`page_of` builds the ``{"items": [...], "next_cursor": ...}`` response schema.
- :data:`DateTimeIn` for every date-time a client sends.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

from ninja import Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
)


def _representable(value: dt.datetime) -> dt.datetime:
    """PostgreSQL stores timestamps far outside years 1-9999, but psycopg cannot read them
    back into a Python datetime: one stored ``0001-01-01T00:00:00+14:00`` (year 0 in UTC)
    made every list of its tenant fail. So the value must exist as a UTC datetime."""
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("Must be between years 1 and 9999 in UTC.") from None
    return value


DateTimeIn = Annotated[
    AwareDatetime,
    AfterValidator(_representable),
    Field(json_schema_extra={"description": "ISO 8601 with a UTC offset, years 1-9999 in UTC."}),
]
"""A date-time from a client: with a UTC offset (a naive time is ambiguous) and
representable in UTC within years 1-9999."""


class RequestSchema(Schema):
    """Base of all request bodies: extra fields are rejected (a typo is an error)."""

    model_config = ConfigDict(extra="forbid")


class PatchSchema(RequestSchema):
    """A partial update: every field is optional (``T | None = None``, None meaning "left
    out"). An explicit ``null`` means "clear it" only for the fields in ``NULLABLE`` (an
    assignee, a due date); for the others it is a 422 for that field, instead of reaching a
    service that expects a value (the generated-input tests found such 500s)."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_allowed(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("Cannot be null; leave the field out to keep its value.")
        return value


class FieldErrorOut(Schema):
    field: str | None = Field(
        description="Where: `body.<field>`, `query.<name>`, "
        "`path.<name>`, `header.<name>`; null: the request."
    )
    message: str


class ProblemOut(Schema):
    """RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(
        title="Problem",
        json_schema_extra={
            "examples": [
                {
                    "type": "https://autocrm.dev/problems/validation-error",
                    "title": "Unprocessable Content",
                    "status": 422,
                    "detail": "The request is invalid.",
                    "errors": [{"field": "body.email", "message": "Enter a valid email address."}],
                }
            ]
        },
    )

    type: str = Field(
        description="A URI identifying the problem type; `about:blank` when the status says it all."
    )
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldErrorOut] | None = Field(
        default=None, description="For 422: one entry per invalid field."
    )


_pages: dict[type[Any], type[Schema]] = {}


def page_of(item: type[Schema]) -> type[Schema]:
    """The keyset page schema ``<Item>Page`` for ``item`` (one class per item type)."""
    if item not in _pages:
        _pages[item] = create_model(
            f"{item.__name__.removesuffix('Out')}Page",
            __base__=Schema,
            items=(list[item], ...),  # type: ignore[valid-type]
            next_cursor=(
                str | None,
                Field(
                    default=None,
                    description="Pass as `cursor` for the next page; null on the last page.",
                ),
            ),
        )
    return _pages[item]
