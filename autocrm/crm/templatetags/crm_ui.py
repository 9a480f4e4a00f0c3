"""Template helpers of the CRM pages and the ticket sidebar's CRM panel."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Exists, OuterRef
from django.http import QueryDict
from django.utils.html import format_html

from autocrm.crm import selectors, selectors_sidebar
from autocrm.crm.forms_deals import REMINDER_CHOICES
from autocrm.crm.models import Contact, ContactPhone, SegmentMember
from autocrm.crm.normalize import phone_display
from autocrm.workspace.common import actor_for

register = template.Library()


@register.filter
def phone(value: str) -> str:
    return phone_display(value) if value else ""


@register.filter
def contact_emails(contact: Contact) -> list[str]:
    """The primary address first, then the others (from the prefetched rows)."""
    others = sorted(e.email for e in contact.emails.all() if e.email != contact.email)
    return [contact.email, *others]


@register.filter
def contact_phones(contact: Contact) -> list[ContactPhone]:
    return sorted(contact.phones.all(), key=lambda p: (p.number != contact.phone, p.pk))


@register.simple_tag
def with_cursor(query: QueryDict, cursor: str) -> str:
    """The list's query string with ``cursor`` set (the "show more" link)."""
    params = query.copy()
    params["cursor"] = cursor
    return params.urlencode()


@register.simple_tag
def export_query(query: QueryDict, fmt: str) -> str:
    """The list's query string for its export link: same filters, no page, the format."""
    params = query.copy()
    params.pop("cursor", None)
    params["format"] = fmt
    return params.urlencode()


@register.simple_tag
def consent_summary(contact: Contact) -> str:
    given = [
        label
        for flag, label in (
            (contact.consent_email, "email"),
            (contact.consent_sms, "SMS"),
            (contact.consent_phone, "calls"),
        )
        if flag
    ]
    if not given:
        return format_html('<span class="muted">{}</span>', "None given")
    return ", ".join(given)


@register.inclusion_tag("workspace/crm/_sidebar_panel.html", takes_context=True)
def crm_panel(context: template.Context, ticket: Any) -> dict[str, Any]:
    """The CRM record of the ticket's requester: the contact, its companies and open deals,
    the activities around it and forms to log one or schedule a follow-up (two statements,
    see ``selectors_sidebar``)."""
    request = context["request"]
    actor = actor_for(request)
    record = selectors_sidebar.ticket_crm_record(
        tenant=request.tenant, actor=actor, contact_id=ticket.requester_id, ticket_id=ticket.pk
    )
    return {
        "record": record,
        "contact": record.contact,
        "ticket": ticket,
        "tenant": request.tenant,
        "can_edit": actor.role != "light_agent",
        "reminders": REMINDER_CHOICES,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("workspace/crm/_contact_lists.html", takes_context=True)
def contact_lists(context: template.Context, contact: Contact) -> dict[str, Any]:
    """The static lists the contact is on, and the others to add them to (one query)."""
    request = context["request"]
    actor = actor_for(request)
    lists = list(
        selectors.segment_list(tenant=request.tenant, actor=actor)
        .filter(kind="static")
        .annotate(
            listed=Exists(SegmentMember.objects.filter(segment=OuterRef("pk"), contact=contact))
        )
        .order_by("name", "id")
    )
    return {
        "contact": contact,
        "tenant": request.tenant,
        "on": [s for s in lists if s.listed],
        "off": [s for s in lists if not s.listed],
        "can_edit": actor.role != "light_agent",
        "here": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
