"""What the tickets routers share: the caller, domain errors as problems, ETags, paging."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest
from ninja import Query

from autocrm.core.actors import Actor, actor_for_caller
from autocrm.core.api import require
from autocrm.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from autocrm.core.models import Tenant
from autocrm.core.problems import Conflict, NotFound, PreconditionFailed
from autocrm.tickets.errors import TicketClosedError, VersionConflictError

Cursor = Query(None, description="`next_cursor` of the previous page.")
Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")


def who(request: HttpRequest, level: str) -> tuple[Tenant, Actor]:
    caller = require(request, level)  # type: ignore[arg-type]
    return caller.tenant, actor_for_caller(caller)


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
    if not value.isdigit():
        raise PreconditionFailed(
            "If-Match must be an ETag from GET /tickets/{id}.", type_="precondition-failed"
        )
    return int(value)


# --- tickets --------------------------------------------------------------------------------


def get_or_404(finder: Callable[[], Any], what: str) -> Any:
    found = finder()
    if found is None:
        raise NotFound(f"No {what} with this id.", type_="not-found")
    return found
