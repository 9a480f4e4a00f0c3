"""Writes of webhook subscriptions: create, change, delete, rotate the secret, and the
automatic switch-off after persistent failure.

Admin actions take the tenant and the :class:`Actor` (the tenant's owners and admins, its
admin-scoped API keys, system jobs; audited under the actor's label), run in one
transaction and append an event.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from autocrm.accounts.models import ADMIN_ROLES, Membership
from autocrm.core.actors import Actor
from autocrm.core.events import event_append, event_types_registered
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import events
from autocrm.notifications.models import WebhookSubscription
from autocrm.notifications.targets import UnsafeTarget, resolve_target

SECRET_PREFIX = "whsec_"
MAX_EVENT_TYPES = 50
URL_MAX_LENGTH = 2000

_EVENT_PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")


def require_webhook_admin(tenant: Tenant, actor: Actor) -> None:
    """Webhooks send tenant data anywhere: only the tenant's owners and admins (and its
    admin-scoped keys, and system jobs) manage them."""
    if not (actor.is_admin and actor.acts_in(tenant.pk)):
        raise PermissionDenied("Only owners and admins can manage webhooks.")


def event_types_clean(value: Any) -> list[str]:
    """Validated, deduplicated, sorted event type patterns (``[]`` means every event)."""
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError({"event_types": "Give a list of event types."})
    cleaned = sorted({v.strip().lower() for v in value if v.strip()})
    if len(cleaned) > MAX_EVENT_TYPES:
        raise ValidationError({"event_types": f"At most {MAX_EVENT_TYPES} event types."})
    bad = [v for v in cleaned if not _EVENT_PATTERN.match(v)]
    if bad:
        raise ValidationError(
            {"event_types": f"Not an event type or 'prefix.*' pattern: {', '.join(bad)}."}
        )
    # A typo (`ticket.create`, `tickets.*`) would otherwise be a subscription that silently
    # never fires.
    known = event_types_registered()
    unknown = [v for v in cleaned if not any(event_type_matches([v], t) for t in known)]
    if unknown:
        raise ValidationError(
            {"event_types": f"No event has this type or matches it: {', '.join(unknown)}."}
        )
    return cleaned


def event_type_matches(patterns: list[str], event_type: str) -> bool:
    """``[]`` and ``*`` match everything; ``ticket.*`` matches ``ticket.created`` and
    ``ticket.message.created`` but not ``ticket`` or ``tickets.x``."""
    if not patterns:
        return True
    for pattern in patterns:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def _url_clean(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": "A URL is required."})
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError({"url": f"At most {URL_MAX_LENGTH} characters."})
    try:
        resolve_target(url)
    except UnsafeTarget as exc:
        raise ValidationError({"url": str(exc)}) from exc
    return url


def _secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _subscription_summary(subscription: WebhookSubscription) -> dict[str, Any]:
    # Never the secret: events are themselves delivered by webhooks and kept in the audit log.
    return {
        "url": subscription.url,
        "event_types": subscription.event_types,
        "description": subscription.description,
        "active": subscription.active,
    }


def webhook_subscription_create(
    *,
    tenant: Tenant,
    actor: Actor,
    url: str,
    event_types: list[str] | None = None,
    description: str = "",
    active: bool = True,
) -> WebhookSubscription:
    """A new subscription with a generated secret (returned once on the object: show it to
    the admin, who configures it in the receiver)."""
    cleaned_types = event_types_clean(event_types)
    description = (description or "").strip()[:200]
    with tenant_context(tenant):
        require_webhook_admin(tenant, actor)
        url = _url_clean(url)
        subscription = WebhookSubscription.objects.create(
            tenant=tenant,
            url=url,
            event_types=cleaned_types,
            secret=_secret_new(),
            active=active,
            description=description,
            created_by=actor.user,
            disabled_at=None if active else timezone.now(),
            disabled_reason="" if active else "Created disabled.",
        )
        event_append(
            tenant=tenant,
            type=events.WEBHOOK_CREATED,
            subject=subscription,
            actor=actor,
            payload=_subscription_summary(subscription),
        )
    return subscription


def webhook_subscription_update(
    *,
    tenant: Tenant,
    actor: Actor,
    subscription: WebhookSubscription,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change the given fields (``None`` leaves a field as is). Re-activating clears the
    failure streak and the disabled reason."""
    with tenant_context(tenant):
        require_webhook_admin(tenant, actor)
        sub = WebhookSubscription.objects.select_for_update().get(tenant=tenant, pk=subscription.pk)
        before = _subscription_summary(sub)
        fields: set[str] = set()
        if url is not None and url.strip() != sub.url:
            sub.url = _url_clean(url)
            fields.add("url")
        if event_types is not None:
            cleaned = event_types_clean(event_types)
            if cleaned != sub.event_types:
                sub.event_types = cleaned
                fields.add("event_types")
        if description is not None and description.strip()[:200] != sub.description:
            sub.description = description.strip()[:200]
            fields.add("description")
        if active is not None and active != sub.active:
            sub.active = active
            if active:
                sub.disabled_at, sub.disabled_reason = None, ""
                sub.consecutive_failures, sub.failing_since = 0, None
            else:
                sub.disabled_at = timezone.now()
                sub.disabled_reason = "Disabled by an administrator."
            fields |= {
                "active",
                "disabled_at",
                "disabled_reason",
                "consecutive_failures",
                "failing_since",
            }
        if not fields:
            return sub
        sub.save(update_fields=[*sorted(fields), "updated_at"])
        after = _subscription_summary(sub)
        changes = {
            key: {"from": before[key], "to": after[key]}
            for key in after
            if before[key] != after[key]
        }
        event_append(
            tenant=tenant,
            type=events.WEBHOOK_UPDATED,
            subject=sub,
            actor=actor,
            payload={"url": sub.url, "changes": changes},
        )
    return sub


def webhook_subscription_delete(
    *, tenant: Tenant, actor: Actor, subscription: WebhookSubscription
) -> None:
    """Remove the subscription and its delivery log; queued attempts find nothing and stop."""
    with tenant_context(tenant):
        require_webhook_admin(tenant, actor)
        sub = WebhookSubscription.objects.select_for_update().get(tenant=tenant, pk=subscription.pk)
        event_append(
            tenant=tenant,
            type=events.WEBHOOK_DELETED,
            subject=(sub._meta.label_lower, sub.pk),
            actor=actor,
            payload=_subscription_summary(sub),
        )
        sub.delete()


def webhook_subscription_rotate_secret(
    *, tenant: Tenant, actor: Actor, subscription: WebhookSubscription
) -> WebhookSubscription:
    """Replace the secret at once: attempts from now on are signed with the new one."""
    with tenant_context(tenant):
        require_webhook_admin(tenant, actor)
        sub = WebhookSubscription.objects.select_for_update().get(tenant=tenant, pk=subscription.pk)
        sub.secret = _secret_new()
        sub.save(update_fields=["secret", "updated_at"])
        event_append(
            tenant=tenant,
            type=events.WEBHOOK_SECRET_ROTATED,
            subject=sub,
            actor=actor,
            payload={"url": sub.url},
        )
    return sub


def webhook_subscription_disable(
    *, tenant: Tenant, actor: Actor, subscription: WebhookSubscription, reason: str
) -> WebhookSubscription:
    """Switch a failing subscription off (the delivery job's system actor), record why, append
    ``webhook.disabled`` and email the tenant's owners and admins after commit."""
    with tenant_context(tenant):
        sub = WebhookSubscription.objects.select_for_update().get(tenant=tenant, pk=subscription.pk)
        if not sub.active:
            return sub
        sub.active = False
        sub.disabled_at = timezone.now()
        sub.disabled_reason = reason[:500]
        sub.save(update_fields=["active", "disabled_at", "disabled_reason", "updated_at"])
        event_append(
            tenant=tenant,
            type=events.WEBHOOK_DISABLED,
            subject=sub,
            actor=actor,
            payload={
                "url": sub.url,
                "reason": sub.disabled_reason,
                "consecutive_failures": sub.consecutive_failures,
            },
        )
        recipients = sorted(
            Membership.objects.filter(
                tenant=tenant, role__in=ADMIN_ROLES, user__is_active=True
            ).values_list("user__email", flat=True)
        )
        if recipients:
            message = (
                f"The webhook {sub.url} of {tenant.name} on AutoCRM was disabled because "
                f"its deliveries kept failing.\n\nReason: {sub.disabled_reason}\n\n"
                f"Fix the receiver, then re-enable the webhook in the settings "
                f"({settings.SITE_URL}/{tenant.slug}/) or with PATCH /api/v1/webhooks/{sub.pk} "
                f'{{"active": true}}. Failed deliveries can then be redelivered.'
            )
            transaction.on_commit(
                lambda: send_mail(
                    subject=f"[AutoCRM] Webhook disabled: {sub.url}"[:200],
                    message=message,
                    from_email=None,
                    recipient_list=recipients,
                )
            )
    return sub
