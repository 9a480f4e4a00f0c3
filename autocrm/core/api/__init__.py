"""The API toolkit every app's ``api.py`` uses. Typical handler::

from autocrm.core.api import Cursor, Limit, keyset_page, page_of, page_response, require

@router.get("/things", response=page_of(ThingOut), summary="List things", tags=["things"])
def things_list(request, cursor: str | None = Cursor, limit: int = Limit):
    who = require(request, "read")
    page = keyset_page(thing_list(tenant=who.tenant, actor=who.actor),
                       ordering=("-created_at", "id"), cursor=cursor, limit=limit)
    return page_response(page)
"""

from autocrm.core.api.auth import Caller, Level, caller, require
from autocrm.core.api.base import AutoCrmApi
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
    "keyset_page",
    "page_of",
    "page_response",
    "problems",
    "require",
    "secret_response",
]
