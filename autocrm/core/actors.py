"""Who performs an action: a signed-in member, an API key, or the system."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autocrm.accounts.models import ApiKey, Membership, User

STAFF = frozenset({"owner", "admin", "agent", "light_agent"})
ADMINS = frozenset({"owner", "admin"})


@dataclass(frozen=True)
class Actor:
    user: User | None
    role: str  # a membership role, or "api" / "system"
    label: str
    api_scope: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(user=None, role="system", label=label)

    @classmethod
    def for_membership(cls, membership: Membership) -> Actor:
        return cls(user=membership.user, role=membership.role, label=membership.user.email)

    @classmethod
    def for_api_key(cls, api_key: ApiKey) -> Actor:
        return cls(
            user=None, role="api", label=f"api-key:{api_key.prefix}", api_scope=api_key.scope
        )

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF or self.role in {"api", "system"}

    @property
    def is_admin(self) -> bool:
        return (
            self.role in ADMINS
            or self.role == "system"
            or (self.role == "api" and self.api_scope == "admin")
        )

    @property
    def is_customer(self) -> bool:
        return self.role == "customer"

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None


def actor_for_caller(caller: Any) -> Actor:
    """The Actor of an API request (``autocrm.core.api.Caller``): the key or the member."""
    if caller.api_key is not None:
        return Actor.for_api_key(caller.api_key)
    return Actor.for_membership(caller.membership)
