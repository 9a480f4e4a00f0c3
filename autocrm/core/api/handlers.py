"""What every thin API handler repeats, once: who is calling (tenant and actor at a level),
the row a ``*_get`` selector found or a 404 problem, and the body of a plain list.

A typical handler::

    @router.get("/things/{thing_id}", response=ThingOut, summary="Get a thing")
    def things_get(request: HttpRequest, thing_id: int) -> Any:
        tenant, actor = tenant_and_actor(request, "read")
        return get_or_404(thing_get(tenant=tenant, actor=actor, thing_id=thing_id), "thing")

The selectors and services stay the only read and write paths: these helpers only remove the
plumbing around them, so every route still declares its own path, schemas and level in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from autocrm.core.api.auth import Level, require
from autocrm.core.api.pagination import DEFAULT_LIMIT, keyset_page, page_response
from autocrm.core.problems import NotFound

if TYPE_CHECKING:
    from autocrm.core.actors import Actor
    from autocrm.core.models import Tenant

T = TypeVar("T")
M = TypeVar("M", bound=models.Model)


def tenant_and_actor(
    request: HttpRequest, level: Level, *, customers: bool = False
) -> tuple[Tenant, Actor]:
    """The caller's tenant and actor, refused with a 403 problem below ``level`` (see
    :func:`autocrm.core.api.auth.require`, also for ``customers``)."""
    who = require(request, level, customers=customers)
    return who.tenant, who.actor


def get_or_404(found: T | None, what: str) -> T:
    """What a ``*_get`` selector found (it already kept to the caller's tenant and access),
    else a 404 problem naming what was missing: "No {what} with this id."."""
    if found is None:
        raise NotFound(f"No {what} with this id.", type_="not-found")
    return found


def keyset_response(
    rows: QuerySet[M],
    *,
    ordering: Sequence[str],
    cursor: str | None,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """The ``{"items", "next_cursor"}`` body of one page of ``rows`` (a selector's
    queryset) in ``ordering`` after ``cursor``: :func:`keyset_page` + :func:`page_response`."""
    return page_response(keyset_page(rows, ordering=ordering, cursor=cursor, limit=limit))
