"""The API toolkit every app's ``api.py`` uses. Typical handler::

from autocrm.core.api import RequestSchema, keyset_page, page_of, require

@router.get("/things", response=page_of(ThingOut), summary="List things", tags=["things"])
def things_list(request, cursor: str | None = None, limit: int = 50):
    who = require(request, "read")
    page = keyset_page(thing_list(tenant=who.tenant), ordering=("-created_at", "id"),
                       cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}
"""

from autocrm.core.api.auth import Caller, Level, caller, require
from autocrm.core.api.base import AutoCrmApi
from autocrm.core.api.openapi import problems
from autocrm.core.api.pagination import KeysetPage, keyset_page
from autocrm.core.api.schemas import ProblemOut, RequestSchema, page_of
from autocrm.core.idempotency import secret_response

__all__ = [
    "AutoCrmApi",
    "Caller",
    "KeysetPage",
    "Level",
    "ProblemOut",
    "RequestSchema",
    "caller",
    "keyset_page",
    "page_of",
    "problems",
    "require",
    "secret_response",
]
