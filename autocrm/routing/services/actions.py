"""Carrying out rule actions on a ticket (triggers, automations, SLA escalations).

Ticket changes of one rule are one ``ticket_update`` (one ``ticket.updated`` event, made by
the rule's own system actor ``system:trigger:<id>``, which is how the loop guard knows the
rule's own change). E-mails and webhook calls are jobs (autocrm.routing.tasks), deferred in the same
transaction; in-app notifications go through ``autocrm.notifications.inapp.notify`` (kind
``rule``), in the same transaction too.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.notifications.inapp import notify
from autocrm.notifications.models import InAppKind
from autocrm.routing import events
from autocrm.routing.models import RuleRun, Team
from autocrm.routing.services.assignment import ticket_auto_assign
from autocrm.routing.services.common import emit
from autocrm.routing.tasks import rule_email_send, rule_webhook_call
from autocrm.tickets import services as ticket_services
from autocrm.tickets.models import Priority, Ticket
from autocrm.tickets.services.macros import macro_render


def _ticket_changes(ticket: Ticket, actions: list[dict[str, Any]]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    tags = list(ticket.tags)
    for a in actions:
        if a["type"] == "set":
            changes[a["field"]] = a["value"]
        elif a["type"] == "assign" and a["value"] != "auto":
            changes["assignee_id"] = a["value"]
        elif a["type"] == "add_tags":
            tags += [t for t in a["value"] if t not in tags]
        elif a["type"] == "remove_tags":
            tags = [t for t in tags if t not in a["value"]]
    if tags != list(ticket.tags):
        changes["tags"] = tags
    if changes.get("priority") == Priority(ticket.priority).label:
        del changes["priority"]
    return changes


def _recipients(ticket: Ticket, to: Any) -> tuple[list[int], list[str]]:
    """(user ids, e-mail addresses) an e-mail or notification goes to."""
    if to == "requester":
        return [], [ticket.requester.email] if ticket.requester_id else []
    if to == "assignee":
        if ticket.assignee is None:
            return [], []
        return [ticket.assignee.pk], [ticket.assignee.email]
    if to == "team_lead":
        if ticket.team_id is None:
            return [], []
        team = Team.objects.filter(pk=ticket.team_id).select_related("lead").first()
        if team and team.lead_id and team.lead:
            return [team.lead_id], [team.lead.email]
        return [], []
    if isinstance(to, int):
        return [to], []
    return [], [str(to)]


def actions_run(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket: Ticket,
    actions: list[dict[str, Any]],
    kind: str,
    rule_id: int,
    rule_name: str,
    event_id: int | None,
) -> RuleRun:
    """Run ``actions`` (already validated) on ``ticket`` and log the run."""
    changes = _ticket_changes(ticket, actions)
    if changes:
        ticket = ticket_services.ticket_update(
            tenant=tenant, actor=actor, ticket_id=ticket.pk, changes=changes
        )
    for a in actions:
        if a["type"] == "assign" and a["value"] == "auto":
            ticket_auto_assign(tenant=tenant, ticket_id=ticket.pk)
        elif a["type"] == "macro":
            ticket_services.macro_apply(
                tenant=tenant, actor=actor, ticket_id=ticket.pk, macro_id=a["value"]
            )
        elif a["type"] in {"email", "notify"}:
            fresh = Ticket.objects.select_related("requester", "assignee").get(pk=ticket.pk)
            subject = macro_render(text=a["subject"], ticket=fresh, actor=actor)
            body = macro_render(text=a["body"], ticket=fresh, actor=actor)
            user_ids, addresses = _recipients(fresh, a["to"])
            if a["type"] == "email":
                for address in addresses:
                    rule_email_send.defer(
                        tenant_id=tenant.pk, to=address, subject=subject, body=body
                    )
            else:
                url = reverse("workspace:agent_ticket", args=[tenant.slug, fresh.number])
                text = f"{subject} — {body}" if body.strip() else subject
                for user_id in user_ids:
                    # The member's preference for rule notifications decides in-app and/or
                    # e-mail; someone no longer staff here is skipped by notify.
                    notify(
                        tenant=tenant, user=user_id, kind=InAppKind.RULE, subject=text,
                        url=url, actor=actor,
                    )  # fmt: skip
        elif a["type"] == "webhook":
            rule_webhook_call.defer(
                tenant_id=tenant.pk, url=a["url"], ticket_id=ticket.pk, rule=rule_name, kind=kind
            )
    run = RuleRun.objects.create(
        tenant=tenant,
        ticket_id=ticket.pk,
        kind=kind,
        rule_id=rule_id,
        rule_name=rule_name,
        event_id=event_id,
        actions=actions,
        ticket_version=Ticket.objects.values_list("version", flat=True).get(pk=ticket.pk),
    )
    emit(
        tenant,
        actor,
        events.RULE_FIRED,
        ("tickets.ticket", ticket.pk),
        {
            "kind": kind,
            "rule_id": rule_id,
            "rule": rule_name,
            "actions": [a["type"] for a in actions],
        },
    )
    return run
