"""What the routing routers share: the caller and 404s."""

from __future__ import annotations

from typing import TypeVar

from django.http import HttpRequest

from autocrm.core.actors import Actor
from autocrm.core.api import require
from autocrm.core.models import Tenant
from autocrm.core.problems import NotFound

T = TypeVar("T")


def who(request: HttpRequest, level: str) -> tuple[Tenant, Actor]:
    caller = require(request, level)  # type: ignore[arg-type]
    return caller.tenant, caller.actor


def found(value: T | None, what: str) -> T:
    if value is None:
        raise NotFound(f"No {what} with this id.", type_="not-found")
    return value
