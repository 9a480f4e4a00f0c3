"""The API toolkit every app's ``api.py`` uses. Typical handler::

from autocrm.core.api import Cursor, Limit, keyset_response, page_of, tenant_and_actor

@router.get("/things", response=page_of(ThingOut), summary="List things", tags=["things"])
def things_list(request, cursor: str | None = Cursor, limit: int = Limit):
    tenant, actor = tenant_and_actor(request, "read")
    rows = thing_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=("-created_at", "id"), cursor=cursor, limit=limit)

(``keyset_page`` + ``page_response`` when a handler needs the page itself; ``get_or_404``
for what a ``*_get`` selector did not find.)
"""

from autocrm.core.api.auth import Caller, Level, caller, require
from autocrm.core.api.base import AutoCrmApi
from autocrm.core.api.handlers import get_or_404, keyset_response, tenant_and_actor
from autocrm.core.api.openapi import problems
from autocrm.core.api.pagination import Cursor, KeysetPage, Limit, keyset_page, page_response
from autocrm.core.api.schemas import (
    DateTimeIn,
    PatchSchema,
    ProblemOut,
    RequestSchema,
    page_of,
)
from autocrm.core.idempotency import secret_response

__all__ = [
    "AutoCrmApi",
    "Caller",
    "Cursor",
    "DateTimeIn",
    "KeysetPage",
    "Level",
    "Limit",
    "PatchSchema",
    "ProblemOut",
    "RequestSchema",
    "caller",
    "get_or_404",
    "keyset_page",
    "keyset_response",
    "page_of",
    "page_response",
    "problems",
    "require",
    "secret_response",
    "tenant_and_actor",
]
