"""In-app notifications: what other code calls to tell an agent something.

    from autocrm.notifications.inapp import notify
    notify(tenant=t, user=u, kind=InAppKind.SLA_WARNING, subject="#42 is due in 30 min",
           url="/acme/agent/tickets/42/", actor=Actor.system("sla"))

``notify`` keeps the member's preference for the kind (in the workspace and/or by e-mail),
never notifies someone of their own action, stores the notification and appends
``notification.created``, whose realtime push updates the member's badge live. E-mail goes
out from the worker (``notifications.inapp_email``), after commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from autocrm.accounts.models import STAFF_ROLES, Membership, User
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.notifications import events
from autocrm.notifications.models import InAppKind, InAppNotification, InAppPreference

# (in the workspace, by e-mail) for a kind the member never chose for.
DEFAULTS: dict[str, tuple[bool, bool]] = {
    InAppKind.ASSIGNED: (True, False),
    InAppKind.MENTIONED: (True, True),
    InAppKind.CUSTOMER_REPLIED: (True, False),
    InAppKind.SLA_WARNING: (True, False),
    InAppKind.ACTIVITY_REMINDER: (True, True),
    InAppKind.RULE: (True, False),
}


def preferences_of(*, tenant: Tenant, user_id: int) -> dict[str, tuple[bool, bool]]:
    """(in_app, email) per kind for a member: their choices over the defaults."""
    chosen = {
        p.kind: (p.in_app, p.email)
        for p in InAppPreference.objects.filter(tenant=tenant, user_id=user_id)
    }
    return {kind: chosen.get(kind, default) for kind, default in DEFAULTS.items()}


@transaction.atomic
def notify(
    *, tenant: Tenant, user: User | int, kind: str, subject: str, url: str, actor: Actor
) -> InAppNotification | None:
    """Notify a staff member of the tenant; None when their preference is off, when they
    are the actor, or when they are not (or no longer) staff here."""
    if kind not in DEFAULTS:
        raise ValidationError({"kind": f"Unknown notification kind {kind!r}."})
    user_id = user if isinstance(user, int) else user.pk
    if actor.user_id == user_id:
        return None
    if not Membership.objects.filter(tenant=tenant, user_id=user_id, role__in=STAFF_ROLES).exists():
        return None
    in_app, email = preferences_of(tenant=tenant, user_id=user_id)[kind]
    if not in_app and not email:
        return None
    notification = InAppNotification.objects.create(
        tenant=tenant,
        user_id=user_id,
        kind=kind,
        subject=subject[:300],
        url=url[:500],
        actor=actor.user,
        actor_label=(actor.user.display_name if actor.user else actor.label)[:200],
        created_at=timezone.now(),
        # Wanted by e-mail only: stored (the e-mail job reads it) but not shown as unread.
        read_at=None if in_app else timezone.now(),
    )
    event_append(
        tenant=tenant,
        type=events.NOTIFICATION_CREATED,
        subject=notification,
        actor=actor,
        payload={
            "user_id": user_id,
            "kind": kind,
            "subject": notification.subject,
            "url": notification.url,
            "in_app": in_app,
        },
    )
    if email:
        from autocrm.notifications.tasks import inapp_email

        inapp_email.defer(tenant_id=tenant.pk, notification_id=notification.pk)
    return notification


def _require_member(tenant: Tenant, actor: Actor) -> int:
    if actor.user_id is None or not actor.is_staff or not actor.acts_in(tenant.pk):
        raise PermissionDenied("Only members of the workspace have notifications.")
    return actor.user_id


@transaction.atomic
def notifications_mark_read(
    *, tenant: Tenant, actor: Actor, ids: Iterable[int] | None = None
) -> int:
    """Mark the actor's own notifications read: the given ids, or all of them."""
    user_id = _require_member(tenant, actor)
    rows = InAppNotification.objects.filter(tenant=tenant, user_id=user_id, read_at=None)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    marked = sorted(rows.values_list("pk", flat=True))
    if not marked:
        return 0
    InAppNotification.objects.filter(pk__in=marked).update(read_at=timezone.now())
    event_append(
        tenant=tenant,
        type=events.NOTIFICATION_READ,
        subject=("accounts.user", user_id),
        actor=actor,
        payload={"ids": marked[:1000], "count": len(marked)},
    )
    return len(marked)


@transaction.atomic
def notification_preferences_update(
    *, tenant: Tenant, actor: Actor, choices: Mapping[str, tuple[bool, bool]]
) -> dict[str, tuple[bool, bool]]:
    """Save the actor's (in_app, email) per kind; kinds not given keep their value."""
    user_id = _require_member(tenant, actor)
    unknown = set(choices) - set(DEFAULTS)
    if unknown:
        raise ValidationError({"kind": f"Unknown kinds: {', '.join(sorted(unknown))}."})
    before = preferences_of(tenant=tenant, user_id=user_id)
    changed = {k: v for k, v in choices.items() if before[k] != v}
    for kind, (in_app, email) in changed.items():
        InAppPreference.objects.update_or_create(
            tenant=tenant, user_id=user_id, kind=kind, defaults={"in_app": in_app, "email": email}
        )
    if changed:
        event_append(
            tenant=tenant,
            type=events.NOTIFICATION_PREFERENCES_UPDATED,
            subject=("accounts.user", user_id),
            actor=actor,
            payload={
                "changes": {k: {"from": list(before[k]), "to": list(v)} for k, v in changed.items()}
            },
        )
    return {**before, **changed}


# --- reads ---------------------------------------------------------------------------------


def notification_list(*, tenant: Tenant, actor: Actor, limit: int = 50) -> list[InAppNotification]:
    """The actor's newest notifications (read or not)."""
    user_id = _require_member(tenant, actor)
    return list(
        InAppNotification.objects.filter(tenant=tenant, user_id=user_id).order_by("-id")[:limit]
    )


def notification_unread_count(*, tenant: Tenant, actor: Actor) -> int:
    user_id = _require_member(tenant, actor)
    return unread_count(tenant=tenant, user_id=user_id)


def unread_count(*, tenant: Tenant, user_id: int) -> int:
    """For the realtime push (the worker acts for no member)."""
    return InAppNotification.objects.filter(tenant=tenant, user_id=user_id, read_at=None).count()


def notification_get(*, tenant: Tenant, actor: Actor, notification_id: int) -> InAppNotification:
    user_id = _require_member(tenant, actor)
    return InAppNotification.objects.get(tenant=tenant, user_id=user_id, pk=notification_id)
