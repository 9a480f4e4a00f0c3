"""Accounts API: the caller, members, invitations, API keys. Thin: parse -> selector or
service -> schema. Tenant and access come from ``require``; services enforce the rest."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from autocrm.accounts import selectors, services
from autocrm.accounts.models import Membership
from autocrm.accounts.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    InvitationIn,
    InvitationOut,
    MemberOut,
    MemberRoleIn,
    MeOut,
)
from autocrm.core.api import get_or_404, keyset_response, page_of, require, secret_response
from autocrm.core.api.pagination import Cursor, Limit
from autocrm.core.models import Tenant

router = Router()


@router.get(
    "/me",
    response=MeOut,
    tags=["me"],
    summary="Who is calling",
    description="The tenant, and the signed-in user with their role or the API key with its scope.",
)
def me(request: HttpRequest) -> dict[str, Any]:
    who = require(request, "read")
    # TenantMiddleware's key and member, already loaded.
    key = getattr(request, "api_key", None)
    membership = getattr(request, "membership", None) if key is None else None
    user = who.actor.user
    return {
        "tenant": who.tenant,
        "user": None if user is None else {"id": user.pk, "email": user.email, "name": user.name},
        "api_key": None
        if key is None
        else {"id": key.pk, "name": key.name, "prefix": key.prefix, "scope": key.scope},
        "role": None if membership is None else membership.role,
        "access": who.level,
    }


@router.get(
    "/users",
    response=page_of(MemberOut),
    tags=["users"],
    summary="List the tenant's members",
    description="By email, keyset-paginated.",
)
def users_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    who = require(request, "read")
    return keyset_response(
        selectors.membership_list(tenant=who.tenant, actor=who.actor),
        ordering=("user__email", "id"),
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/users/invitations",
    response=page_of(InvitationOut),
    tags=["invitations"],
    summary="List open invitations",
    description="Invitations not yet accepted, revoked or expired; newest first.",
)
def invitations_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    who = require(request, "admin")
    return keyset_response(
        selectors.invitation_list_pending(tenant=who.tenant, actor=who.actor),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/users/invitations",
    response={201: InvitationOut},
    tags=["invitations"],
    summary="Invite someone by email",
    description="Emails a link to join with the role. Re-inviting an address "
    "replaces its open invitation. Admin only.",
)
def invitations_create(request: HttpRequest, payload: InvitationIn) -> Any:
    who = require(request, "admin")
    invitation, _token = services.invitation_create(
        tenant=who.tenant,
        actor=who.actor,
        email=payload.email,
        role=payload.role,
    )
    return invitation


@router.delete(
    "/users/invitations/{invitation_id}",
    response={204: None},
    tags=["invitations"],
    summary="Revoke an open invitation",
    description="Its link stops working. Admin only.",
)
def invitations_revoke(request: HttpRequest, invitation_id: int) -> None:
    who = require(request, "admin")
    invitation = get_or_404(
        selectors.invitation_get_pending(
            tenant=who.tenant, actor=who.actor, invitation_id=invitation_id
        ),
        "open invitation",
    )
    services.invitation_revoke(tenant=who.tenant, actor=who.actor, invitation=invitation)


def _member(tenant: Tenant, user_id: int) -> Membership:
    return get_or_404(selectors.membership_get(tenant=tenant, user_id=user_id), "member")


@router.patch(
    "/users/{user_id}",
    response=MemberOut,
    tags=["users"],
    summary="Change a member's role",
    description="Admin only. Only owners make someone an owner or change an owner's role "
    "(403 otherwise); the workspace keeps at least one owner (422).",
)
def users_change_role(request: HttpRequest, user_id: int, payload: MemberRoleIn) -> Any:
    who = require(request, "admin")
    return services.membership_change_role(
        tenant=who.tenant,
        actor=who.actor,
        membership=_member(who.tenant, user_id),
        role=payload.role,
    )


@router.delete(
    "/users/{user_id}",
    response={204: None},
    tags=["users"],
    summary="Remove a member",
    description="They lose access to the workspace. Admin only; only owners remove an "
    "owner (403 otherwise), and the workspace keeps at least one owner (422).",
)
def users_remove(request: HttpRequest, user_id: int) -> None:
    who = require(request, "admin")
    services.membership_remove(
        tenant=who.tenant, actor=who.actor, membership=_member(who.tenant, user_id)
    )


@router.get(
    "/api-keys",
    response=page_of(ApiKeyOut),
    tags=["api-keys"],
    summary="List API keys",
    description="Revoked keys included; newest first. Admin only.",
)
def api_keys_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    who = require(request, "admin")
    return keyset_response(
        selectors.api_key_list(tenant=who.tenant, actor=who.actor, include_revoked=True),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/api-keys",
    response={201: ApiKeyCreatedOut},
    tags=["api-keys"],
    summary="Create an API key",
    description="The response holds the full key, shown only this once. A retry "
    "with the same Idempotency-Key gets a 409, never the key again. "
    "Admin only.",
)
@secret_response
def api_keys_create(request: HttpRequest, payload: ApiKeyIn) -> Any:
    who = require(request, "admin")
    key, raw_key = services.api_key_create(
        tenant=who.tenant,
        actor=who.actor,
        name=payload.name,
        scope=payload.scope,
    )
    # Already validated as ApiKeyOut; the raw key is added without a second pass.
    return ApiKeyCreatedOut.model_construct(**ApiKeyOut.from_orm(key).model_dump(), key=raw_key)


@router.delete(
    "/api-keys/{api_key_id}",
    response={204: None},
    tags=["api-keys"],
    summary="Revoke an API key",
    description="Requests with the key fail from now on. Admin only.",
)
def api_keys_revoke(request: HttpRequest, api_key_id: int) -> None:
    who = require(request, "admin")
    key = get_or_404(
        selectors.api_key_get(tenant=who.tenant, actor=who.actor, api_key_id=api_key_id), "API key"
    )
    services.api_key_revoke(tenant=who.tenant, actor=who.actor, api_key=key)
