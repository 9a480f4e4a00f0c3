"""Who is calling the API, and what they may do.

The authentication classes (settings.API_AUTHENTICATION, by default the accounts app's API
key and staff session) turn a request into a :class:`Caller` (``request.auth``) or refuse.
Handlers state what an endpoint needs with ``require(request, "admin")``; services get
``caller.actor``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.http import HttpRequest

from autocrm.core.actors import API, Actor
from autocrm.core.problems import Forbidden

if TYPE_CHECKING:
    from autocrm.core.models import Tenant

Level = Literal["read", "write", "admin"]
LEVELS: tuple[Level, ...] = ("read", "write", "admin")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _rank(level: str) -> int:
    return LEVELS.index(level)


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one API request (``request.auth``): the tenant, the
    access level the key's scope or the member's role grants, and the actor services get."""

    tenant: Tenant
    level: Level
    actor: Actor

    @property
    def label(self) -> str:
        """How the audit log names this caller: the user's email or ``api-key:<prefix>``."""
        return self.actor.label

    def allows(self, level: Level) -> bool:
        return _rank(self.level) >= _rank(level)


def caller(request: HttpRequest) -> Caller:
    """The :class:`Caller` of an authenticated request."""
    auth = getattr(request, "auth", None)
    if not isinstance(auth, Caller):
        raise RuntimeError("caller() used on an operation without AutoCRM auth")
    return auth


def require(request: HttpRequest, level: Level, *, customers: bool = False) -> Caller:
    """Refuse with 403 unless the caller has at least ``level`` ("read" < "write" <
    "admin"); returns the caller for the handler to use. Customers (signed in to a help
    centre) are refused unless the endpoint says ``customers=True``: it then restricts
    what they see in its own selectors and services."""
    who = caller(request)
    if who.actor.is_customer and not customers:
        raise Forbidden(
            "Only staff members of this workspace can use this endpoint.", type_="not-staff"
        )
    if not who.allows(level):
        what = "API key scope" if who.actor.role == API else "role"
        raise Forbidden(
            f"This needs {level} access; your {what} grants {who.level}.",
            type_="insufficient-permission",
            required=level,
        )
    return who
