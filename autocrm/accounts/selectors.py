"""Reads for accounts: memberships, API key authentication, tenant users.

The tenant's lists (members, invitations, API keys) take the :class:`Actor` reading them
and refuse who may not (staff see members and invitations; only admins see API keys). The
lookups that find the caller in the first place (API key, session membership) come before
any actor exists and take none."""

from __future__ import annotations

import hashlib
import hmac

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from autocrm.accounts.models import ApiKey, Membership
from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant

API_KEY_PREFIX = "acrm_"


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


API_KEY_COLUMNS = (
    "id",
    "tenant_id",
    "key_hash",
    "name",
    "prefix",
    "scope",
    "created_by_id",
    "created_at",
    "last_used_at",
    "user_id",
)


_TENANT_FIELDS = Tenant._meta.concrete_fields
# The key and its tenant in one statement, prepared once per connection (autocrm.core.sql):
# it runs before every API request.
_API_KEY_LOOKUP = (
    f"SELECT {', '.join(f'k.{c}' for c in API_KEY_COLUMNS)}, "  # noqa: S608 — column and table names from constants and model metadata
    f"{', '.join(f't.{f.column}' for f in _TENANT_FIELDS)} "
    f"FROM autocrm_api_key_lookup(%(prefix)s::text) k JOIN {Tenant._meta.db_table} t "
    "ON t.id = k.tenant_id"
)


def api_key_authenticate(*, raw_key: str) -> tuple[Tenant, ApiKey] | None:
    """Find the tenant and key for a presented key, or None. Runs before any tenant is known,
    so the lookup goes through the SECURITY DEFINER function autocrm_api_key_lookup, which
    returns one unrevoked key by its public prefix and nothing else. The tenant row comes in
    the same query (one round trip for every API request)."""
    parts = raw_key.split("_")
    if len(parts) != 3 or f"{parts[0]}_" != API_KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    row = sql.fetch_one(_API_KEY_LOOKUP, {"prefix": parts[1]})
    if row is None or not hmac.compare_digest(row[2], api_key_hash(raw_key)):
        return None
    key_values, tenant_values = row[: len(API_KEY_COLUMNS)], row[len(API_KEY_COLUMNS) :]
    tenant = _tenant_from_row(tenant_values)
    # from_db takes the values in the model's field order (absent fields stay deferred).
    values = dict(zip(API_KEY_COLUMNS, key_values, strict=True))
    attnames = [f.attname for f in ApiKey._meta.concrete_fields if f.attname in values]
    key = ApiKey.from_db(connection.alias, attnames, [values[name] for name in attnames])
    key.tenant = tenant
    return tenant, key


def user_memberships(*, user_id: int) -> QuerySet[Membership]:
    """The user's memberships in every tenant (readable through the own_rows policy; the
    caller must be in ``user_context`` or a tenant context with this user id)."""
    return (
        Membership.objects.filter(user_id=user_id).select_related("tenant").order_by("tenant__name")
    )


def user_workspace_rows(*, user_id: int) -> list[tuple[int, str, str, str]]:
    """(tenant id, tenant name, slug, role) of ``user_memberships``, in its order: the
    workspace switcher of every agent page, as one prepared statement (the queryset cost
    ~0.9 ms of CPU to compile per page). Same caller context as ``user_memberships``."""
    return sql.fetch_all(_USER_WORKSPACES, [user_id])


_USER_WORKSPACES = (
    f"SELECT m.tenant_id, t.name, t.slug, m.role FROM {Membership._meta.db_table} m "  # noqa: S608 — table names from model metadata
    f"INNER JOIN {Tenant._meta.db_table} t ON m.tenant_id = t.id "
    "WHERE m.user_id = %s ORDER BY t.name"
)


_MEMBERSHIP_COLUMNS = ("id", "tenant_id", "user_id", "role", "created_at")
# Prepared once per connection (autocrm.core.sql): it runs before every API request signed
# in with a browser session, as the API key lookup does for keys.
_SESSION_MEMBERSHIP_LOOKUP = (
    f"SELECT {', '.join(f'm.{c}' for c in _MEMBERSHIP_COLUMNS)}, "  # noqa: S608 — column and table names from constants and model metadata
    f"{', '.join(f't.{f.column}' for f in _TENANT_FIELDS)}, count(*) OVER () "
    "FROM autocrm_session_membership(%(user_id)s::bigint, %(slug)s::text) m "
    f"JOIN {Tenant._meta.db_table} t ON t.id = m.tenant_id"
)


def _tenant_from_row(values: tuple[object, ...]) -> Tenant:
    return Tenant.from_db(
        connection.alias,
        [f.attname for f in _TENANT_FIELDS],
        [  # the converters a queryset would apply (JSON settings arrive as text)
            f.from_db_value(v, None, connection) if hasattr(f, "from_db_value") else v
            for f, v in zip(_TENANT_FIELDS, values, strict=True)
        ],
    )


def membership_for_session(*, user: User, slug: str) -> Membership | None:
    """The staff membership an API call with a browser session acts in (tenant attached):
    the X-Tenant slug's if the user is staff there, else the user's only staff membership.
    One statement before any tenant context, through the SECURITY DEFINER function
    autocrm_session_membership (only that user's staff rows), so the request needs no
    separate transaction to find its tenant. ``membership.user`` is ``user`` (not read
    again)."""
    row = sql.fetch_one(_SESSION_MEMBERSHIP_LOOKUP, {"user_id": user.pk, "slug": slug})
    if row is None or row[-1] != 1:  # none, or several and no slug to choose
        return None
    count = len(_MEMBERSHIP_COLUMNS)
    membership = Membership.from_db(connection.alias, list(_MEMBERSHIP_COLUMNS), list(row[:count]))
    membership.tenant = _tenant_from_row(row[count:-1])
    membership.user = user
    return membership


def membership_get(*, tenant: Tenant, user_id: int) -> Membership | None:
    return Membership.objects.filter(tenant=tenant, user_id=user_id).select_related("user").first()


# Reads of the settings pages (appended; kept together below).
from dataclasses import dataclass  # noqa: E402

from autocrm.accounts.models import (  # noqa: E402
    STAFF_ROLES,
    Invitation,
    Role,
    User,
    display_name,
)


def _require_staff(tenant: Tenant, actor: Actor) -> None:
    if not (actor.is_staff and actor.acts_in(tenant.pk)):
        raise PermissionDenied("Only staff members of this workspace can see its members.")


def _require_admin(tenant: Tenant, actor: Actor) -> None:
    if not (actor.is_admin and actor.acts_in(tenant.pk)):
        raise PermissionDenied("Only owners and admins can see API keys.")


def membership_list(*, tenant: Tenant, actor: Actor) -> QuerySet[Membership]:
    """The tenant's members with their users, owners and admins first, then by name."""
    _require_staff(tenant, actor)
    from django.db.models import Case, IntegerField, Value, When

    rank = Case(
        *[When(role=role, then=Value(i)) for i, role in enumerate(Role.values)],
        output_field=IntegerField(),
    )
    return (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .annotate(role_rank=rank)
        .order_by("role_rank", "user__name", "user__email")
    )


def staff_names(*, tenant: Tenant, actor: Actor) -> list[tuple[int, str, str]]:
    """(user id, display name, role) of the tenant's staff, in ``membership_list``'s order:
    the workspace's assignee, owner and @mention choices on every agent page. Plain values
    (no model instances): rows of 50 members with their users cost a queue page a fifth of
    its CPU."""
    _require_staff(tenant, actor)
    rows = sql.fetch_all(
        _STAFF_NAMES, [tenant.pk, sorted(r.value for r in STAFF_ROLES), Role.values]
    )
    return [(user_id, display_name(name, email), role) for user_id, name, email, role in rows]


# staff_names' statement, prepared (autocrm.core.sql): the queryset (membership_list's order
# by role rank) took 2 ms of CPU to compile on every agent page. A role outside Role.values
# ranks last, as the Case of membership_list leaves it NULL.
_STAFF_NAMES = (
    "SELECT m.user_id, u.name, u.email, m.role FROM accounts_membership m "
    "INNER JOIN accounts_user u ON m.user_id = u.id "
    "WHERE m.tenant_id = %s AND m.role = ANY(%s::text[]) "
    "ORDER BY array_position(%s::text[], m.role::text), u.name, u.email"
)


def membership_get_by_id(*, tenant: Tenant, actor: Actor, membership_id: int) -> Membership | None:
    _require_staff(tenant, actor)
    return Membership.objects.filter(tenant=tenant, pk=membership_id).select_related("user").first()


def membership_role_counts(*, tenant: Tenant, actor: Actor) -> dict[str, int]:
    """How many members hold each role (roles nobody holds are absent)."""
    _require_staff(tenant, actor)
    from django.db.models import Count

    rows = (
        Membership.objects.filter(tenant=tenant).values("role").annotate(n=Count("id")).order_by()
    )
    return {row["role"]: row["n"] for row in rows}


def invitation_list_pending(*, tenant: Tenant, actor: Actor) -> QuerySet[Invitation]:
    """Invitations not yet accepted, revoked or expired, newest first."""
    _require_staff(tenant, actor)
    return (
        Invitation.objects.filter(
            tenant=tenant,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("-created_at")
    )


def invitation_get_pending(
    *, tenant: Tenant, actor: Actor, invitation_id: int
) -> Invitation | None:
    return invitation_list_pending(tenant=tenant, actor=actor).filter(pk=invitation_id).first()


def api_key_list(
    *, tenant: Tenant, actor: Actor, include_revoked: bool = False
) -> QuerySet[ApiKey]:
    """The tenant's API keys (active ones unless ``include_revoked``), newest first; not
    the members' personal tokens, which each member manages for themselves."""
    _require_admin(tenant, actor)
    keys = ApiKey.objects.filter(tenant=tenant, user__isnull=True).select_related("created_by")
    if not include_revoked:
        keys = keys.filter(revoked_at__isnull=True)
    return keys.order_by("-created_at")


def api_key_get(*, tenant: Tenant, actor: Actor, api_key_id: int) -> ApiKey | None:
    _require_admin(tenant, actor)
    return ApiKey.objects.filter(tenant=tenant, pk=api_key_id).first()


def user_labels(*, tenant: Tenant, user_ids: set[int]) -> dict[int, str]:
    """How to name users met in the tenant's own records (e.g. audit events of members who
    have since left): their display name, as the assignee pickers show them. Users are
    global rows; the ids come from the tenant's events."""
    if not user_ids:
        return {}
    rows = User.objects.filter(pk__in=user_ids).values_list("pk", "name", "email")
    return {pk: display_name(name, email) for pk, name, email in rows}


@dataclass(frozen=True)
class AccountSecurity:
    mfa_enabled: bool
    # allauth refuses to add an authenticator while any address is unverified.
    email_verified: bool


def account_security(*, user: User) -> AccountSecurity:
    """Whether the user has two-factor on, and whether they may turn it on now."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.utils import is_mfa_enabled

    unverified = EmailAddress.objects.filter(user_id=user.pk, verified=False).exists()
    return AccountSecurity(mfa_enabled=is_mfa_enabled(user), email_verified=not unverified)
