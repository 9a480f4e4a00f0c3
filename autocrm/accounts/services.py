"""Every write of the accounts app. Each takes the tenant and the :class:`Actor` (a member,
an API key, or a named system job such as a CLI command), runs in one transaction and appends
an event (no event for global user rows: they have no tenant)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from autocrm.accounts import events
from autocrm.accounts.models import (
    ApiKey,
    ApiKeyScope,
    Invitation,
    Membership,
    Role,
    User,
)
from autocrm.accounts.selectors import API_KEY_PREFIX, api_key_hash
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import RESERVED_SLUGS, SLUG_VALIDATOR, Tenant
from autocrm.core.tenancy import tenant_context

INVITATION_TTL = dt.timedelta(days=7)


def _require_admin(tenant: Tenant, actor: Actor) -> None:
    """Owners, admins, admin-scoped API keys (of this tenant) and system jobs (the CLI)
    manage a tenant."""
    if not (actor.is_admin and actor.acts_in(tenant.pk)):
        raise PermissionDenied("Only owners and admins can do this.")


def user_create(*, email: str, password: str | None, name: str = "") -> User:
    """A global user. ``password=None`` leaves it unusable (for invitations, customers)."""
    validate_email(email)
    email = email.strip().lower()
    if User.objects.filter(email__lower=email.strip().lower()).exists():
        raise ValidationError({"email": "A user with this email already exists."})
    return User.objects.create_user(email, password, name=name)


def tenant_create(*, actor: Actor, slug: str, name: str, owner: User | None = None) -> Tenant:
    """A new tenant; with ``owner``, that user becomes its owner. ``actor`` is who creates
    it: the signing-up user (their own owner) or a system job (the CLI)."""
    slug = slug.strip().lower()
    SLUG_VALIDATOR(slug)
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"'{slug}' is reserved."})
    if not name.strip():
        raise ValidationError({"name": "A name is required."})
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(slug=slug, name=name.strip())
    except IntegrityError as exc:
        raise ValidationError({"slug": f"'{slug}' is taken."}) from exc
    with tenant_context(tenant):
        event_append(
            tenant=tenant,
            type=events.TENANT_CREATED,
            subject=tenant,
            actor=actor,
            payload={"slug": slug, "name": tenant.name},
        )
        if owner is not None:
            # Whoever creates a tenant makes its first owner (nobody is a member yet).
            _membership_insert(tenant=tenant, actor=actor, user=owner, role=Role.OWNER)
    return tenant


def _require_owner_for_ownership(actor: Actor) -> None:
    """Only owners grant or remove ownership: otherwise an admin could make themselves owner
    and then demote or remove the real owners."""
    if not actor.is_owner:
        raise PermissionDenied("Only owners can grant or remove ownership.")


def membership_create(*, tenant: Tenant, actor: Actor, user: User, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role '{role}'."})
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        if role == Role.OWNER:
            _require_owner_for_ownership(actor)
        return _membership_insert(tenant=tenant, actor=actor, user=user, role=role)


def _membership_insert(*, tenant: Tenant, actor: Actor, user: User, role: str) -> Membership:
    """Add ``user`` with ``role`` (the caller checked that ``actor`` may)."""
    with transaction.atomic():
        if Membership.objects.filter(tenant=tenant, user=user).exists():
            raise ValidationError({"email": f"{user.email} is already a member."})
        membership = Membership.objects.create(tenant=tenant, user=user, role=role)
        event_append(
            tenant=tenant,
            type=events.MEMBERSHIP_CREATED,
            subject=membership,
            actor=actor,
            payload={"user_id": user.pk, "email": user.email, "role": role},
        )
    return membership


def membership_join_as_customer(*, tenant: Tenant, user: User) -> Membership:
    """``user`` joins ``tenant`` as a customer by themselves (a help-centre sign-up whose
    address was verified; the help centre checks the tenant's sign-up policy first). Acting
    as that customer, so the audit log names them."""
    with tenant_context(tenant):
        existing = Membership.objects.filter(tenant=tenant, user=user).first()
        if existing is not None:
            return existing
        actor = Actor.for_user(user, role=Role.CUSTOMER, tenant_id=tenant.pk)
        return _membership_insert(tenant=tenant, actor=actor, user=user, role=Role.CUSTOMER)


def membership_change_role(
    *, tenant: Tenant, actor: Actor, membership: Membership, role: str
) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role '{role}'."})
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        old = membership.role
        if Role.OWNER in (old, role) and old != role:
            _require_owner_for_ownership(actor)
        if old == Role.OWNER and role != Role.OWNER:
            _ensure_another_owner(tenant=tenant, membership=membership)
        membership.role = role
        membership.save(update_fields=["role"])
        event_append(
            tenant=tenant,
            type=events.MEMBERSHIP_ROLE_CHANGED,
            subject=membership,
            actor=actor,
            payload={"user_id": membership.user_id, "role": {"from": old, "to": role}},
        )
    return membership


def membership_remove(*, tenant: Tenant, actor: Actor, membership: Membership) -> None:
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == Role.OWNER:
            _require_owner_for_ownership(actor)
            _ensure_another_owner(tenant=tenant, membership=membership)
        event_append(
            tenant=tenant,
            type=events.MEMBERSHIP_REMOVED,
            subject=membership,
            actor=actor,
            payload={"user_id": membership.user_id, "role": membership.role},
        )
        membership.delete()


def _ensure_another_owner(*, tenant: Tenant, membership: Membership) -> None:
    others = Membership.objects.filter(tenant=tenant, role=Role.OWNER).exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError({"role": "A tenant must keep at least one owner."})


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(
    *,
    tenant: Tenant,
    actor: Actor,
    email: str,
    role: str,
    send: bool = True,
) -> tuple[Invitation, str]:
    """Invite ``email`` to the tenant; returns the invitation and the one-time token (which is
    emailed and never stored in clear). Re-inviting replaces an open invitation."""
    validate_email(email)
    email = email.strip().lower()
    if role not in Role.values or role == Role.OWNER:
        raise ValidationError({"role": f"Cannot invite with role '{role}'."})
    token = secrets.token_urlsafe(32)
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        if Membership.objects.filter(tenant=tenant, user__email__lower=email).exists():
            raise ValidationError({"email": f"{email} is already a member."})
        now = timezone.now()
        Invitation.objects.filter(
            tenant=tenant, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            tenant=tenant,
            email=email,
            role=role,
            token_hash=_token_hash(token),
            invited_by=actor.user,
            expires_at=now + INVITATION_TTL,
        )
        event_append(
            tenant=tenant,
            type=events.INVITATION_CREATED,
            subject=invitation,
            actor=actor,
            payload={"email": email, "role": role},
        )
        if send:
            url = f"{settings.SITE_URL}/invitations/{token}/"
            inviter = actor.user.display_name if actor.user else "An administrator"
            transaction.on_commit(
                lambda: send_mail(
                    subject=f"You're invited to {tenant.name} on AutoCRM",
                    message=f"{inviter} invited you to join {tenant.name} on AutoCRM as "
                    f"{Role(role).label.lower()}.\n\nAccept the invitation: {url}\n\n"
                    f"The link expires in {INVITATION_TTL.days} days.",
                    from_email=None,
                    recipient_list=[email],
                )
            )
    return invitation, token


def invitation_find(*, token: str) -> tuple[Tenant, Invitation] | None:
    """The open invitation for a token, or None (unknown, used, revoked or expired)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, tenant_id FROM autocrm_invitation_lookup(%s)", [_token_hash(token)]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    tenant = Tenant.objects.get(pk=row[1])
    with tenant_context(tenant):
        invitation = Invitation.objects.get(pk=row[0])
    if invitation.accepted_at or invitation.revoked_at or invitation.expires_at < timezone.now():
        return None
    return tenant, invitation


def invitation_accept(*, token: str, user: User) -> Membership:
    """The signed-in ``user`` accepts; the invitation's email must be theirs."""
    found = invitation_find(token=token)
    if found is None:
        raise ValidationError("This invitation is invalid or has expired.")
    tenant, invitation = found
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied("This invitation was sent to another email address.")
    with tenant_context(tenant, user_id=user.pk):
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise ValidationError("This invitation has already been used.")
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        # The invitee acts, with the role an admin chose for them (not an admin themselves).
        actor = Actor.for_user(user, role=invitation.role, tenant_id=tenant.pk)
        membership = _membership_insert(tenant=tenant, actor=actor, user=user, role=invitation.role)
        event_append(
            tenant=tenant,
            type=events.INVITATION_ACCEPTED,
            subject=invitation,
            actor=actor,
            payload={"email": invitation.email, "role": invitation.role},
        )
    return membership


def invitation_revoke(*, tenant: Tenant, actor: Actor, invitation: Invitation) -> None:
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if updated:
            event_append(
                tenant=tenant,
                type=events.INVITATION_REVOKED,
                subject=invitation,
                actor=actor,
                payload={"email": invitation.email},
            )


def api_key_create(
    *,
    tenant: Tenant,
    actor: Actor,
    name: str,
    scope: str = ApiKeyScope.READ,
) -> tuple[ApiKey, str]:
    """A new key; returns it with the raw key, which is shown once and never stored."""
    if scope not in ApiKeyScope.values:
        raise ValidationError({"scope": f"Unknown scope '{scope}'."})
    if not name.strip():
        raise ValidationError({"name": "A name is required."})
    prefix = secrets.token_hex(6)
    raw_key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32).replace('_', '-')}"
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        key = ApiKey.objects.create(
            tenant=tenant,
            name=name.strip()[:100],
            prefix=prefix,
            key_hash=api_key_hash(raw_key),
            scope=scope,
            created_by=actor.user,
        )
        event_append(
            tenant=tenant,
            type=events.API_KEY_CREATED,
            subject=key,
            actor=actor,
            payload={"name": key.name, "prefix": prefix, "scope": scope},
        )
    return key, raw_key


def api_key_revoke(*, tenant: Tenant, actor: Actor, api_key: ApiKey) -> ApiKey:
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            event_append(
                tenant=tenant,
                type=events.API_KEY_REVOKED,
                subject=key,
                actor=actor,
                payload={"name": key.name, "prefix": key.prefix},
            )
    return key


def tenant_settings_update(
    *, tenant: Tenant, actor: Actor, name: str, settings: dict[str, object]
) -> Tenant:
    """Rename the tenant and change its settings (only keys of TENANT_SETTING_DEFAULTS,
    each of its default's type). The event records every change as from → to."""
    from autocrm.core.models import TENANT_SETTING_DEFAULTS

    name = name.strip()
    if not name:
        raise ValidationError({"name": "A name is required."})
    if len(name) > 200:
        raise ValidationError({"name": "Use at most 200 characters."})
    for key, value in settings.items():
        if key not in TENANT_SETTING_DEFAULTS:
            raise ValidationError({key: f"Unknown setting '{key}'."})
        if type(value) is not type(TENANT_SETTING_DEFAULTS[key]):
            raise ValidationError(
                {key: f"'{key}' must be a {type(TENANT_SETTING_DEFAULTS[key]).__name__}."}
            )
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        changes: dict[str, dict[str, object]] = {}
        if locked.name != name:
            changes["name"] = {"from": locked.name, "to": name}
            locked.name = name
        new_settings = dict(locked.settings)
        for key, value in settings.items():
            old = locked.setting(key)
            if old != value:
                changes[f"settings.{key}"] = {"from": old, "to": value}
            new_settings[key] = value
        if changes:
            locked.settings = new_settings
            locked.save(update_fields=["name", "settings"])
            event_append(
                tenant=locked,
                type=events.TENANT_SETTINGS_UPDATED,
                subject=locked,
                actor=actor,
                payload={"changes": changes},
            )
    tenant.name, tenant.settings = locked.name, locked.settings
    return locked


LAST_USED_RESOLUTION_SECONDS = 60


def api_key_mark_used(*, tenant: Tenant, api_key: ApiKey) -> None:
    """Record that a key was used (at most once a minute; bookkeeping like a last login, so
    no event). Runs in the request's tenant transaction."""
    now = timezone.now()
    last = api_key.last_used_at
    if last is None or (now - last).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiKey.objects.filter(tenant=tenant, pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
