"""Ticket events in words: the ticket page's history and the dashboard's activity feed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.selectors import audit_timeline
from autocrm.routing.models import Team
from autocrm.tickets import services
from autocrm.tickets.tests.factories import SYSTEM, ticket
from autocrm.workspace import ticket_timeline

pytestmark = pytest.mark.django_db


def test_history_names_people_and_teams_not_ids(ctx: Tenant) -> None:
    alex = member(ctx, "agent", email="alex@acme.test", name="Alex Agent")
    team = Team.objects.create(tenant=ctx, name="Billing")
    t = ticket(ctx, tags=["a"])
    services.ticket_update(
        tenant=ctx,
        actor=actor_of(ctx, alex),
        ticket_id=t.pk,
        changes={"assignee_id": alex.pk, "team_id": team.pk, "tags": ["b"], "status": "on_hold"},
    )
    events = list(audit_timeline(tenant=ctx, subject_type="tickets.ticket", subject_id=t.pk))
    [changed, created] = ticket_timeline.describe_ticket_events(ctx, events)
    assert changed.actor == "Alex Agent"
    assert "changed the assignee from nobody to Alex Agent" in changed.text
    assert "changed the team from none to Billing" in changed.text
    assert "added the tags b; removed the tags a" in changed.text
    assert "changed the status from new to on hold" in changed.text
    assert created.text == "created the ticket (priority normal)"


def test_routing_sla_and_triage_events_read_as_sentences(ctx: Tenant) -> None:
    """What the worker does to a ticket reads as words on its page, never as a raw type."""
    from autocrm.core.events import event_append

    alex = member(ctx, "agent", email="alex@acme.test", name="Alex Agent")
    team = Team.objects.create(tenant=ctx, name="Billing")
    t = ticket(ctx)
    happenings: list[tuple[str, dict[str, Any]]] = [
        ("sla.applied", {"policy": "Standard", "metrics": ["first_reply"]}),
        ("sla.warning", {"metric": "first_reply"}),
        ("sla.breached", {"metric": "resolution"}),
        ("rule.fired", {"kind": "trigger", "rule": "VIP to Billing", "actions": ["assign"]}),
        ("ticket.routed", {"reason": "round_robin", "team_id": team.pk, "assignee_id": alex.pk}),
        ("ticket.routed", {"reason": "no_agent_available", "team_id": team.pk}),
        ("ai.ticket.triaged", {"state": "review", "suggestions": {"category": {"value": "x"}}}),
    ]
    for type_, payload in happenings:
        event_append(tenant=ctx, type=type_, subject=t, actor=SYSTEM, payload=payload)
    events = list(audit_timeline(tenant=ctx, subject_type="tickets.ticket", subject_id=t.pk))
    texts = [e.text for e in ticket_timeline.describe_ticket_events(ctx, events)]
    assert texts[:7] == [
        "triaged the ticket: category x (waiting for review)",
        "routed the ticket to the team Billing (no agent available)",
        "routed the ticket to Alex Agent",
        "ran the trigger “VIP to Billing”",
        "recorded an SLA breach of the resolution target",
        "warned that the first reply target is near",
        "applied the SLA policy “Standard”",
    ]


def test_one_ai_triage_reads_as_one_line_on_the_page_and_in_the_feed(ctx: Tenant) -> None:
    """Triage appends two events in one transaction: the ticket.updated that records its
    result under metadata.ai_triage and applies what it is sure of (triggers read it), and
    ai.ticket.triaged (the page's live update reads it). Both stay in the log; people read
    one line ("triaged the ticket: category shipping; set category to shipping")."""
    from autocrm.ai.services.triage import TRIAGE_ACTOR, ticket_triage, triage_model_train
    from autocrm.ai.tests.factories import category_field, solved_history

    category_field(ctx)
    solved_history(ctx)
    assert triage_model_train(tenant=ctx, actor=SYSTEM) is not None
    t = ticket(ctx, subject="Parcel missing", body="My package never arrived, where is it?")
    ticket_triage(tenant=ctx, actor=TRIAGE_ACTOR, ticket_id=t.pk)

    events = list(audit_timeline(tenant=ctx, subject_type="tickets.ticket", subject_id=t.pk))
    assert [e.type for e in events] == ["ai.ticket.triaged", "ticket.updated", "ticket.created"]
    assert events[1].payload["changes"]["metadata"]["to"]["ai_triage"]["category"] == "shipping"
    texts = [e.text for e in ticket_timeline.describe_ticket_events(ctx, events)]
    assert texts == [
        "triaged the ticket: category shipping; set category to shipping",
        "created the ticket (priority normal)",
    ]

    agent = actor_of(ctx, member(ctx, "agent"))
    feed = ticket_timeline.activity(tenant=ctx, actor=agent, events=events, user_labels={})
    name = f"#{t.number} “Parcel missing”"
    assert [(e.text, e.target, e.suffix) for e in feed] == [
        ("triaged", name, ": category shipping; set category to shipping"),
        ("created", name, ""),
    ]


def test_a_triage_without_a_model_is_one_line_and_a_lone_update_keeps_its_own(
    ctx: Tenant,
) -> None:
    """Untrained, triage only records its result: its line says so once. A triage update
    whose triage event is not beside it in the list (cut off by the page's limit) still
    reads as what it did."""
    from autocrm.ai.services.triage import TRIAGE_ACTOR, ticket_triage

    t = ticket(ctx)
    ticket_triage(tenant=ctx, actor=TRIAGE_ACTOR, ticket_id=t.pk)
    events = list(audit_timeline(tenant=ctx, subject_type="tickets.ticket", subject_id=t.pk))
    texts = [e.text for e in ticket_timeline.describe_ticket_events(ctx, events)]
    assert texts == ["triaged the ticket", "created the ticket (priority normal)"]
    alone = ticket_timeline.describe_ticket_events(ctx, events[1:])
    assert [e.text for e in alone] == [
        "recorded the AI triage",
        "created the ticket (priority normal)",
    ]


def test_the_dashboard_feed_speaks_human_and_links_tickets(client: Client, ctx: Tenant) -> None:
    alex = member(ctx, "agent", email="alex@acme.test", name="Alex")
    t = ticket(ctx, subject="Printer on fire")
    services.ticket_message_add(
        tenant=ctx, actor=actor_of(ctx, alex), ticket_id=t.pk, body="On my way", public=True
    )
    services.ticket_message_add(
        tenant=ctx, actor=actor_of(ctx, alex), ticket_id=t.pk, body="fyi", public=False
    )
    services.ticket_update(tenant=ctx, actor=SYSTEM, ticket_id=t.pk, changes={"priority": "high"})
    client.force_login(alex)
    html = client.get("/acme/").content.decode()
    link = f'<a href="/acme/agent/tickets/{t.number}/">#{t.number} “Printer on fire”</a>'
    assert f"<strong>Alex</strong> replied to {link}" in html
    assert f"<strong>Alex</strong> added an internal note to {link}" in html
    assert f"changed the priority of {link} from normal to high" in html
    assert f"<strong>System</strong> created {link}" in html


def test_the_feed_names_the_ticket_of_routing_sla_ai_and_email_events(ctx: Tenant) -> None:
    """What the worker does to a ticket names and links it too ("System routed #3 “…” to
    the team Billing"), not "System routed a ticket"."""
    from autocrm.core.events import event_append

    agent = actor_of(ctx, member(ctx, "agent"))
    team = Team.objects.create(tenant=ctx, name="Billing")
    t = ticket(ctx, subject="Refund please")
    happenings: list[tuple[str, dict[str, Any]]] = [
        ("sla.applied", {"policy": "Standard", "metrics": ["first_reply"]}),
        ("ticket.routed", {"reason": "no_agent_available", "team_id": team.pk}),
        ("ai.ticket.triaged", {"state": "applied", "suggestions": {"category": {"value": "x"}}}),
    ]
    for type_, payload in happenings:
        event_append(tenant=ctx, type=type_, subject=t, actor=SYSTEM, payload=payload)
    event_append(
        tenant=ctx,
        type="email.queued",
        subject=t.requester,  # any other subject: the payload names the ticket
        actor=SYSTEM,
        payload={"ticket_id": t.pk, "kind": "ticket_received", "to": ["a@b.test"]},
    )
    events = list(audit_timeline(tenant=ctx)[:4])
    entries = ticket_timeline.activity(tenant=ctx, actor=agent, events=events, user_labels={})
    name = f"#{t.number} “Refund please”"
    assert [(e.actor, e.text, e.target, e.suffix) for e in entries] == [
        ("System", "queued an e-mail about", name, ""),
        ("System", "triaged", name, ": category x"),
        ("System", "routed", name, " to the team Billing (no agent available)"),
        ("System", "applied the SLA policy “Standard” to", name, ""),
    ]
    assert {e.url for e in entries} == {f"/acme/agent/tickets/{t.number}/"}


def test_the_feed_does_not_link_or_name_tickets_the_reader_cannot_see(ctx: Tenant) -> None:
    ctx.settings = {**ctx.settings, "restrict_agents_to_own_teams": True}
    ctx.save()
    team = Team.objects.create(tenant=ctx, name="Secret")
    hidden = ticket(ctx, subject="Layoffs", team_id=team.pk)
    services.ticket_update(
        tenant=ctx, actor=SYSTEM, ticket_id=hidden.pk, changes={"priority": "high"}
    )
    agent = actor_of(ctx, member(ctx, "agent"))
    events = list(audit_timeline(tenant=ctx)[:5])
    entries = ticket_timeline.activity(tenant=ctx, actor=agent, events=events, user_labels={})
    assert [e.target for e in entries if e.type.startswith("ticket.")] == [
        f"#{hidden.number}",
        f"#{hidden.number}",
    ]
    assert all(e.url == "" for e in entries)


def test_the_dashboard_shows_the_agents_own_numbers(client: Client, ctx: Tenant) -> None:
    import datetime as dt

    from django.utils import timezone

    from autocrm.tickets.models import Ticket
    from autocrm.tickets.selectors import agent_stats

    alex = member(ctx, "agent", email="alex@acme.test", name="Alex")
    mine = [ticket(ctx, assignee_id=alex.pk) for _ in range(3)]
    ticket(ctx)  # not assigned: not counted
    now = timezone.now()
    Ticket.objects.filter(pk=mine[0].pk).update(
        first_response_at=now, created_at=now - dt.timedelta(minutes=30)
    )
    Ticket.objects.filter(pk=mine[1].pk).update(
        first_response_at=now,
        created_at=now - dt.timedelta(minutes=90),
        status="solved",
        solved_at=now,
    )
    stats = agent_stats(tenant=ctx, actor=actor_of(ctx, alex), now=now)
    assert (stats.unsolved, stats.solved_today) == (2, 1)
    assert stats.median_first_response == dt.timedelta(minutes=60)
    client.force_login(alex)
    html = client.get("/acme/").content.decode()
    assert "Median first response" in html and "1 h" in html
    assert '<div class="stat-value">2</div>' in html
