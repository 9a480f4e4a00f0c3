"""Personal API tokens: a member's own key (``ApiKey.user`` set), for scripts that act as
that member: a customer's token reaches the ticket endpoints that accept customers and sees
only what the customer sees in the help centre (tickets.access.ticket_scope), a staff
member's token acts with their role. Each member creates, lists and revokes their own.

Same format, hash and lookup as the tenant's API keys (``acrm_<prefix>_<secret>``); the
middleware reads the member with the key, so a token stops working the moment its owner
stops being a member."""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from autocrm.accounts import events
from autocrm.accounts.models import ApiKey, ApiKeyScope, Membership
from autocrm.accounts.selectors import API_KEY_PREFIX, api_key_hash
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context

# A member's scopes: read, or read and write (admin rights come from the role, not a token).
PERSONAL_SCOPES = (ApiKeyScope.READ, ApiKeyScope.WRITE)
MAX_ACTIVE_TOKENS = 10


def _member_user_id(tenant: Tenant, actor: Actor) -> int:
    """The actor's user id when they are a signed-in member of ``tenant``."""
    if actor.user_id is None or not actor.acts_in(tenant.pk):
        raise PermissionDenied("Only a signed-in member can manage their own tokens.")
    if not Membership.objects.filter(tenant=tenant, user_id=actor.user_id).exists():
        raise PermissionDenied("Only a member of this workspace can have tokens here.")
    return actor.user_id


def personal_token_list(*, tenant: Tenant, actor: Actor) -> QuerySet[ApiKey]:
    """The actor's own active tokens in the tenant, newest first."""
    if actor.user_id is None:
        return ApiKey.objects.none()
    return ApiKey.objects.filter(
        tenant=tenant, user_id=actor.user_id, revoked_at__isnull=True
    ).order_by("-created_at", "-id")


def personal_token_create(
    *, tenant: Tenant, actor: Actor, name: str, scope: str = ApiKeyScope.READ
) -> tuple[ApiKey, str]:
    """A new token of the actor; returns it with the raw token, shown once, never stored."""
    if scope not in PERSONAL_SCOPES:
        raise ValidationError({"scope": "Choose read or read and write."})
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A name is required."})
    if len(name) > 100:
        raise ValidationError({"name": "Use at most 100 characters."})
    prefix = secrets.token_hex(6)
    raw = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32).replace('_', '-')}"
    with tenant_context(tenant):
        user_id = _member_user_id(tenant, actor)
        if personal_token_list(tenant=tenant, actor=actor).count() >= MAX_ACTIVE_TOKENS:
            raise ValidationError(
                {"name": f"You have {MAX_ACTIVE_TOKENS} tokens; revoke one you no longer use."}
            )
        token = ApiKey.objects.create(
            tenant=tenant,
            name=name,
            prefix=prefix,
            key_hash=api_key_hash(raw),
            scope=scope,
            created_by_id=user_id,
            user_id=user_id,
        )
        event_append(
            tenant=tenant,
            type=events.API_KEY_CREATED,
            subject=token,
            actor=actor,
            payload={"name": name, "prefix": prefix, "scope": scope, "user_id": user_id},
        )
    return token, raw


def personal_token_revoke(*, tenant: Tenant, actor: Actor, token_id: int) -> ApiKey:
    """Revoke one of the actor's own tokens (another member's is not found)."""
    with tenant_context(tenant):
        user_id = _member_user_id(tenant, actor)
        token = (
            ApiKey.objects.select_for_update()
            .filter(tenant=tenant, pk=token_id, user_id=user_id)
            .first()
        )
        if token is None:
            raise ApiKey.DoesNotExist(token_id)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            event_append(
                tenant=tenant,
                type=events.API_KEY_REVOKED,
                subject=token,
                actor=actor,
                payload={"name": token.name, "prefix": token.prefix, "user_id": user_id},
            )
    return token
