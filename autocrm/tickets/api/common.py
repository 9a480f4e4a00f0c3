"""What the tickets routers share: the caller, domain errors as problems, ETags, 404s."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.http import HttpRequest

from autocrm.core.actors import Actor
from autocrm.core.api import require
from autocrm.core.models import Tenant
from autocrm.core.problems import Conflict, NotFound, PreconditionFailed
from autocrm.tickets.errors import TicketClosedError, VersionConflictError
from autocrm.tickets.query import is_digits

T = TypeVar("T")


def who(request: HttpRequest, level: str, *, customers: bool = False) -> tuple[Tenant, Actor]:
    """The caller's tenant and actor, if they have ``level``. ``customers=True`` lets
    customers in: the endpoint's selectors and services (tickets.access) then limit them to
    their own tickets and the public conversation."""
    caller = require(request, level, customers=customers)  # type: ignore[arg-type]
    return caller.tenant, caller.actor


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


def get_or_404(found: T | None, what: str) -> T:
    """What a ``*_get`` selector found, else a 404 naming what was missing."""
    if found is None:
        raise NotFound(f"No {what} with this id.", type_="not-found")
    return found
