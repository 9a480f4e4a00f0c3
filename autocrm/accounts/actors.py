"""The :class:`~autocrm.core.actors.Actor` of a member or an API key of the tenant."""

from __future__ import annotations

from autocrm.accounts.models import ApiKey, Membership
from autocrm.core.actors import Actor


def actor_for_membership(membership: Membership) -> Actor:
    """The member acting with their role (``membership.user`` is read: select_related it)."""
    return Actor.for_user(membership.user, role=membership.role, tenant_id=membership.tenant_id)


def actor_for_api_key(api_key: ApiKey) -> Actor:
    """The key acting for its tenant, within its scope; audited as ``api-key:<prefix>``."""
    return Actor.for_api_key(
        prefix=api_key.prefix, scope=api_key.scope, tenant_id=api_key.tenant_id
    )
