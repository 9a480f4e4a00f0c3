"""The ticket page's prepared reads (tickets.page_reads) return what the ORM's selectors
return: the same ticket with the same related rows for every staff role and both scope
settings, the same messages, files, history and links."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Company, Contact
from autocrm.tickets import access, page_reads, selectors, services
from autocrm.tickets.models import Ticket
from autocrm.tickets.query import TicketFilters
from autocrm.tickets.tests.factories import SYSTEM, scoped_staff, ticket


@pytest.fixture
def ctx(tenant_a: Tenant) -> Iterator[Tenant]:
    with tenant_context(tenant_a):
        yield tenant_a


def _fields(instance: Model | None) -> dict[str, object] | None:
    """The loaded values of an instance (deferred ones left out)."""
    if instance is None:
        return None
    deferred = instance.get_deferred_fields()
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.attname not in deferred
    }


def _orm(ctx: Tenant, actor: Actor, number: int) -> Ticket:
    return (
        Ticket.objects.filter(tenant=ctx)
        .filter(access.ticket_scope(tenant=ctx, actor=actor))
        .select_related("requester", "organization", "assignee", "team")
        .get(number=number)
    )


@pytest.mark.parametrize("restricted", [False, True])
def test_the_ticket_and_its_related_rows_are_the_orms(ctx: Tenant, restricted: bool) -> None:
    staff = scoped_staff(ctx, restricted=restricted)
    agent, light, admin, mine, theirs = (
        staff.agent,
        staff.light,
        staff.admin,
        staff.mine,
        staff.theirs,
    )
    company = Company.objects.create(tenant=ctx, name="Acme")
    tickets = [
        ticket(ctx, team_id=mine.pk),
        ticket(ctx, team_id=theirs.pk),
        ticket(ctx, team_id=theirs.pk, assignee_id=agent.pk),
        ticket(ctx),
    ]
    Ticket.objects.filter(pk=tickets[0].pk).update(
        organization=company, tags=["vip"], custom_fields={"plan": "pro"}
    )
    for user in (agent, light, admin):
        actor = actor_of(ctx, user)
        for t in tickets:
            try:
                expected = _orm(ctx, actor, t.number)
            except Ticket.DoesNotExist:
                with pytest.raises(Ticket.DoesNotExist):
                    selectors.ticket_get_by_number(tenant=ctx, actor=actor, number=t.number)
                continue
            got = selectors.ticket_get_by_number(tenant=ctx, actor=actor, number=t.number)
            assert got.get_deferred_fields() == {"search_vector"}
            assert _fields(got) == {
                k: v for k, v in (_fields(expected) or {}).items() if k != "search_vector"
            }
            pairs: list[tuple[str, Model, Model]] = [
                (name, got, expected) for name in ("requester", "organization")
            ]
            pairs.append(("company", got.requester, expected.requester))
            for name, instance, orm_instance in pairs:
                related, orm_related = getattr(instance, name), getattr(orm_instance, name)
                fields = _fields(related)
                orm_fields = _fields(orm_related)
                if fields is not None and orm_fields is not None:
                    orm_fields = {k: v for k, v in orm_fields.items() if k in fields}
                assert fields == orm_fields, (user, t.pk, name)
    with pytest.raises(Ticket.DoesNotExist):
        selectors.ticket_get_by_number(tenant=ctx, actor=actor_of(ctx, admin), number=10**9)


def test_no_query_for_the_related_rows(ctx: Tenant) -> None:
    t = ticket(ctx)
    Contact.objects.filter(pk=t.requester_id).update(
        company=Company.objects.create(tenant=ctx, name="Initech")
    )
    admin = actor_of(ctx, member(ctx, "admin"))
    got = selectors.ticket_get_by_number(tenant=ctx, actor=admin, number=t.number)
    with CaptureQueriesContext(connection) as captured:
        assert got.requester.email and got.tenant.pk == ctx.pk and got.organization is None
        assert got.requester.company is not None and got.requester.company.name == "Initech"
    assert captured.captured_queries == []


@pytest.mark.parametrize("restricted", [False, True])
def test_the_requesters_other_tickets_are_the_lists(ctx: Tenant, restricted: bool) -> None:
    staff = scoped_staff(ctx, restricted=restricted)
    tickets = [ticket(ctx, team_id=team.pk) for team in (staff.mine, staff.theirs, staff.mine)]
    tickets += [ticket(ctx, team_id=staff.theirs.pk, assignee_id=staff.agent.pk), ticket(ctx)]
    services.ticket_update(
        tenant=ctx, actor=SYSTEM, ticket_id=tickets[0].pk, changes={"priority": "high"}
    )
    for user in (staff.agent, staff.light, staff.admin):
        actor = actor_of(ctx, user)
        listed = selectors.ticket_list(
            tenant=ctx,
            actor=actor,
            filters=TicketFilters(requester_id=tickets[1].requester_id, sort="-updated_at"),
            limit=10,
            highlight=False,
        ).items
        expected = [(t.number, t.subject, t.status) for t in listed if t.pk != tickets[1].pk]
        got = page_reads.requester_tickets(tenant=ctx, actor=actor, ticket=tickets[1], limit=3)
        assert [tuple(o) for o in got] == expected[:3], user


def test_messages_files_history_and_links_are_the_selectors(ctx: Tenant) -> None:
    t = ticket(ctx)
    agent = actor_of(ctx, member(ctx, "agent"))
    for i in range(3):
        services.ticket_message_add(
            tenant=ctx, actor=SYSTEM, ticket_id=t.pk, body=f"m{i}", public=i != 1
        )
    services.ticket_update(tenant=ctx, actor=SYSTEM, ticket_id=t.pk, changes={"priority": "high"})
    other = ticket(ctx)
    services.ticket_merge(tenant=ctx, actor=SYSTEM, source_id=other.pk, target_id=t.pk)
    columns = (
        "pk", "public", "author_user_id", "author_user__name", "author_user__email",
        "author_contact_id", "author_contact__name", "author_contact__email",
        "delivery_state", "created_at", "body_html",
    )  # fmt: skip
    orm_messages = list(
        selectors.message_list(tenant=ctx, actor=agent, ticket=t).values_list(*columns)
    )
    assert len(orm_messages) >= 4  # the first message, three more, the merged one's
    assert [tuple(r) for r in page_reads.message_rows(ctx, t)] == orm_messages
    orm_files = list(
        selectors.attachment_list(tenant=ctx, actor=agent, ticket=t).values_list(
            "pk", "message_id", "filename", "content_type", "size"
        )
    )
    assert [tuple(r) for r in page_reads.file_rows(ctx, t)] == orm_files
    orm_events = list(selectors.ticket_timeline(tenant=ctx, actor=agent, ticket=t)[:2])
    events = page_reads.ticket_history(tenant=ctx, actor=agent, ticket=t, limit=2)
    assert [(e.pk, e.type, e.payload, e.actor) for e in events] == [
        (e.pk, e.type, e.payload, e.actor) for e in orm_events
    ]
    links = page_reads.link_events(ctx, t, ["ticket.merged_into"])
    assert [row[0] for row in links] == ["ticket.merged_into"]
    customer = actor_of(ctx, member(ctx, "customer"))
    assert page_reads.ticket_history(tenant=ctx, actor=customer, ticket=t, limit=5) == []
