"""Reads of inboxes and their mail. Staff see inboxes (agents pick one to reply from);
customers see none. Call inside the tenant's context: RLS hides other tenants' rows, and
every query filters on the tenant too."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from autocrm.core.actors import Actor
from autocrm.core.models import Event, Tenant
from autocrm.inboxes import events
from autocrm.inboxes.models import InboundEmail, Inbox, OutboundEmail


def _check_staff(tenant: Tenant, actor: Actor) -> None:
    if not (actor.is_staff and actor.acts_in(tenant.pk)):
        raise PermissionDenied("Only staff can see inboxes.")


def inbox_list(*, tenant: Tenant, actor: Actor) -> QuerySet[Inbox]:
    _check_staff(tenant, actor)
    return Inbox.objects.filter(tenant=tenant)


def inbox_get(*, tenant: Tenant, actor: Actor, inbox_id: int) -> Inbox:
    """Raises Inbox.DoesNotExist for an unknown id or another tenant's."""
    _check_staff(tenant, actor)
    return Inbox.objects.get(tenant=tenant, pk=inbox_id)


def inbound_email_list(*, tenant: Tenant, actor: Actor, inbox: Inbox) -> QuerySet[InboundEmail]:
    _check_staff(tenant, actor)
    return InboundEmail.objects.filter(tenant=tenant, inbox=inbox)


def inbound_email_get(
    *, tenant: Tenant, actor: Actor, inbox: Inbox, inbound_email_id: int
) -> InboundEmail:
    """One received mail with its whole original; raises InboundEmail.DoesNotExist."""
    _check_staff(tenant, actor)
    return InboundEmail.objects.get(tenant=tenant, inbox=inbox, pk=inbound_email_id)


def inbound_email_for_message(
    *, tenant: Tenant, actor: Actor, message_id: int
) -> InboundEmail | None:
    """The email a ticket message came from (its whole original), if it came by email."""
    _check_staff(tenant, actor)
    return InboundEmail.objects.filter(tenant=tenant, message_id=message_id).first()


def outbound_email_for_message(
    *, tenant: Tenant, actor: Actor, message_id: int
) -> OutboundEmail | None:
    _check_staff(tenant, actor)
    return OutboundEmail.objects.filter(tenant=tenant, message_id=message_id).first()


def inbox_problems(*, tenant: Tenant, actor: Actor, inbox: Inbox, limit: int = 10) -> list[Event]:
    """The inbox's latest fetch failures, recoveries and rejected mail, newest first."""
    _check_staff(tenant, actor)
    return list(
        Event.objects.filter(
            tenant=tenant,
            subject_type=Inbox._meta.label_lower,
            subject_id=str(inbox.pk),
            type__in=[
                events.INBOX_FETCH_FAILED,
                events.INBOX_FETCH_RECOVERED,
                events.EMAIL_REJECTED,
            ],
        ).order_by("-created_at", "-id")[:limit]
    )
