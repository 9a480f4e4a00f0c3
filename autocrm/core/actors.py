"""Who performs an action: a signed-in member, an API key, or a named system job.

Every service, selector and ``event_append`` takes an :class:`Actor`; ``None`` never means
"system". The actor carries what permission checks and the event row need (the user, the
role, the audit label), so no layer looks the caller up again. The accounts app builds
actors for members and API keys (``autocrm.accounts.actors``); core knows no accounts model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # django-stubs' alias for settings.AUTH_USER_MODEL (its mypy plugin resolves it to the
    # configured model), so core names the user type without importing the accounts app.
    from django.contrib.auth.models import _User as UserModel

STAFF = frozenset({"owner", "admin", "agent", "light_agent"})
ADMINS = frozenset({"owner", "admin"})
API = "api"
SYSTEM = "system"
SYSTEM_LABEL_PREFIX = "system:"
API_KEY_LABEL_PREFIX = "api-key:"


@dataclass(frozen=True)
class Actor:
    user: UserModel | None
    role: str  # a membership role, or "api" / "system"
    label: str  # the audit log's name: the user's email, api-key:<prefix>, system:<job>
    api_scope: str | None = None
    # The tenant whose membership or key gives the role (None: system, or a user who is not
    # a member yet, e.g. creating their first tenant). See acts_in().
    tenant_id: int | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        """The named system actor of a job or command (``system:<name>`` in the audit log)."""
        if not name:
            raise ValueError("A system actor needs the name of the job acting")
        return cls(user=None, role=SYSTEM, label=f"{SYSTEM_LABEL_PREFIX}{name}")

    @classmethod
    def for_user(cls, user: UserModel, *, role: str, tenant_id: int | None) -> Actor:
        """A signed-in user acting with their membership ``role`` in tenant ``tenant_id``."""
        return cls(user=user, role=role, label=user.get_username(), tenant_id=tenant_id)

    @classmethod
    def for_api_key(cls, *, prefix: str, scope: str, tenant_id: int) -> Actor:
        """An API key; it acts for its tenant, with its scope (read / write / admin)."""
        return cls(
            user=None,
            role=API,
            label=f"{API_KEY_LABEL_PREFIX}{prefix}",
            api_scope=scope,
            tenant_id=tenant_id,
        )

    def acts_in(self, tenant_id: int) -> bool:
        """Whether the role holds in this tenant: an admin of one tenant is nobody in another
        (system jobs act in any tenant they are given)."""
        return self.role == SYSTEM or self.tenant_id == tenant_id

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF or self.role in {API, SYSTEM}

    @property
    def is_admin(self) -> bool:
        return (
            self.role in ADMINS
            or self.role == SYSTEM
            or (self.role == API and self.api_scope == "admin")
        )

    @property
    def is_owner(self) -> bool:
        """Owners (and system jobs, e.g. the CLI) may grant and remove ownership."""
        return self.role in {"owner", SYSTEM}

    @property
    def is_customer(self) -> bool:
        return self.role == "customer"

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None
