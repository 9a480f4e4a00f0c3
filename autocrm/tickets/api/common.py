"""What the tickets routers share: domain errors as problems, ETags (the caller and 404s come
from ``autocrm.core.api``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.http import HttpRequest

from autocrm.core.problems import Conflict, PreconditionFailed
from autocrm.tickets.errors import TicketClosedError, VersionConflictError
from autocrm.tickets.query import is_digits

T = TypeVar("T")


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except TicketClosedError as exc:
        raise Conflict(str(exc), type_="ticket-closed") from exc
    except VersionConflictError as exc:
        raise PreconditionFailed(str(exc), current_etag=etag(exc.current_version)) from exc


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_version(request: HttpRequest) -> int | None:
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    value = header.removeprefix("W/").strip('"')
    if not is_digits(value):
        raise PreconditionFailed(
            "If-Match must be an ETag from GET /tickets/{id}.", type_="precondition-failed"
        )
    return int(value)
