from __future__ import annotations

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import PermissionDenied, ValidationError

from autocrm.accounts.actors import actor_for_membership
from autocrm.accounts.models import Membership
from autocrm.accounts.tests.factories import member
from autocrm.core.actors import Actor
from autocrm.core.models import Event
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Company, Contact
from autocrm.crm.services import contact_get_or_create
from autocrm.routing.models import Team, TeamMember
from autocrm.tickets import access, services
from autocrm.tickets.errors import TicketClosedError, VersionConflictError
from autocrm.tickets.models import CustomField, Macro, Message, Ticket
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(tenant_a):  # type: ignore[no-untyped-def]
    with tenant_context(tenant_a):
        yield tenant_a


def actor_for(tenant, role: str) -> Actor:  # type: ignore[no-untyped-def]
    user = member(tenant, role)
    with tenant_context(tenant):
        return actor_for_membership(Membership.objects.select_related("user").get(user=user))


def events(tenant, t: Ticket) -> list[Event]:  # type: ignore[no-untyped-def]
    return list(
        Event.objects.filter(
            tenant=tenant, subject_type="tickets.ticket", subject_id=str(t.pk)
        ).order_by("id")
    )


def test_create_numbers_per_tenant_and_records_the_first_message(ctx, tenant_b) -> None:  # type: ignore[no-untyped-def]
    first, second = ticket(ctx), ticket(ctx, requester_email="PAT@customer.test")
    assert (first.number, second.number) == (1, 2)
    assert first.requester_id == second.requester_id  # contact matched case-insensitively
    with tenant_context(tenant_b):
        assert ticket(tenant_b).number == 1
    msg = Message.objects.get(ticket=first)
    assert msg.public and msg.author_contact_id == first.requester_id
    assert "<p>" in msg.body_html and "password is wrong" in msg.body_text
    assert [e.type for e in events(ctx, first)] == ["ticket.created"]


def test_create_returns_the_ticket_as_stored(ctx) -> None:  # type: ignore[no-untyped-def]
    """The service builds its answer from the INSERT's RETURNING row: it must equal a read."""
    company = Company.objects.create(tenant=ctx, name="Acme")
    contact, _ = contact_get_or_create(tenant=ctx, actor=SYSTEM, email="kim@acme.test")
    Contact.objects.filter(pk=contact.pk).update(company=company, name="Kim")
    team = Team.objects.create(tenant=ctx, name="Billing")
    created = ticket(
        ctx,
        requester_email=" KIM@acme.test ",
        status="solved",
        priority="high",
        type="incident",
        tags=["Billing", "vip"],
        team_id=team.pk,
        metadata={"source": "test"},
    )
    stored = Ticket.objects.select_related("requester").get(pk=created.pk)
    fields = [f.attname for f in Ticket._meta.concrete_fields if f.name != "search_vector"]
    assert {f: getattr(created, f) for f in fields} == {f: getattr(stored, f) for f in fields}
    assert created.organization_id == company.pk and created.solved_at is not None
    assert (created.requester.pk, created.requester.email, created.requester.name) == (
        contact.pk,
        "kim@acme.test",
        "Kim",
    )
    assert not created._state.adding  # a saved row: save() updates it, never inserts
    assert Ticket.objects.filter(
        pk=created.pk,
        search_vector=SearchQuery("password"),  # the body is indexed
    ).exists()
    (event,) = events(ctx, created)
    message = Message.objects.get(ticket=created)
    assert event.payload["message_id"] == message.pk
    assert event.payload["requester"] == {"id": contact.pk, "email": "kim@acme.test"}


def test_create_for_a_new_requester_creates_the_contact(ctx) -> None:  # type: ignore[no-untyped-def]
    created = ticket(ctx, requester_email="New.Person@Example.test", requester_name="New")
    contact = Contact.objects.get(pk=created.requester_id)
    assert (contact.email, contact.name) == ("new.person@example.test", "New")
    assert Event.objects.filter(
        tenant=ctx, type="contact.created", subject_id=str(contact.pk)
    ).exists()
    assert Message.objects.get(ticket=created).author_contact_id == contact.pk


def test_create_sanitizes_html(ctx) -> None:  # type: ignore[no-untyped-def]
    t = ticket(
        ctx, body='<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:x">l</a></p>'
    )
    msg = Message.objects.get(ticket=t)
    assert "script" not in msg.body_html and "onclick" not in msg.body_html
    assert "javascript" not in msg.body_html


@pytest.mark.parametrize(
    ("field", "value", "error_key"),
    [
        ("priority", "extreme", "priority"),
        ("status", "archived", "status"),
        ("type", "bug", "type"),
        ("tags", ["ok", "not ok!"], "tags"),
        ("requester_email", "not-an-email", "requester_email"),
        ("subject", "   ", "subject"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(ctx, field, value, error_key) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as exc:
        ticket(ctx, **{field: value})
    assert error_key in exc.value.message_dict
    assert not Ticket.objects.exists()  # nothing half-written


def test_custom_fields_are_validated_against_definitions(ctx) -> None:  # type: ignore[no-untyped-def]
    CustomField.objects.create(
        tenant=ctx,
        key="plan",
        label="Plan",
        field_type="dropdown",
        options=["free", "pro"],
        required=True,
    )
    CustomField.objects.create(tenant=ctx, key="seats", label="Seats", field_type="number")
    with pytest.raises(ValidationError) as exc:
        ticket(ctx, custom_fields={"seats": "many"})
    assert set(exc.value.message_dict) == {"custom_fields.seats", "custom_fields.plan"}
    t = ticket(ctx, custom_fields={"plan": "pro", "seats": "12"})
    assert t.custom_fields == {"plan": "pro", "seats": 12}
    with pytest.raises(ValidationError, match=r"unknown|not a custom field"):
        services.ticket_update(
            tenant=ctx, actor=SYSTEM, ticket_id=t.pk, changes={"custom_fields": {"nope": 1}}
        )


def test_definition_changes_reach_the_next_ticket_write(ctx) -> None:  # type: ignore[no-untyped-def]
    from autocrm.core.models import Tenant
    from autocrm.tickets import config_services

    ticket(ctx)  # the definitions (none yet) are now cached in this process
    admin = actor_for(ctx, "admin")
    plan = config_services.custom_field_create(
        tenant=Tenant.objects.get(pk=ctx.pk), actor=admin, label="Plan", field_type="text",
        required=True,
    )  # fmt: skip
    next_request = Tenant.objects.get(pk=ctx.pk)
    with pytest.raises(ValidationError) as exc:
        ticket(next_request)
    assert set(exc.value.message_dict) == {"custom_fields.plan"}
    config_services.custom_field_update(
        tenant=next_request, actor=admin, field=plan, changes={"required": False}
    )
    assert ticket(Tenant.objects.get(pk=ctx.pk)).custom_fields == {}
    config_services.custom_field_delete(tenant=next_request, actor=admin, field=plan)
    with pytest.raises(ValidationError, match="plan"):
        ticket(Tenant.objects.get(pk=ctx.pk), custom_fields={"plan": "pro"})


def test_update_records_from_and_to_and_bumps_the_version(ctx) -> None:  # type: ignore[no-untyped-def]
    agent = actor_for(ctx, "agent")
    t = ticket(ctx)
    updated = services.ticket_update(
        tenant=ctx,
        actor=agent,
        ticket_id=t.pk,
        changes={"priority": "urgent", "status": "pending", "tags": ["Billing", "vip"]},
    )
    assert updated.version == 2 and updated.tags == ["billing", "vip"]
    last = events(ctx, t)[-1]
    assert last.type == "ticket.updated" and last.actor_id == agent.user_id
    assert last.payload["changes"]["priority"] == {"from": "normal", "to": "urgent"}
    assert last.payload["changes"]["status"] == {"from": "new", "to": "pending"}
    with pytest.raises(VersionConflictError):
        services.ticket_update(
            tenant=ctx, actor=agent, ticket_id=t.pk, changes={"priority": "low"}, if_version=1
        )


def test_a_no_op_update_writes_no_event(ctx) -> None:  # type: ignore[no-untyped-def]
    t = ticket(ctx)
    services.ticket_update(tenant=ctx, actor=SYSTEM, ticket_id=t.pk, changes={"priority": "normal"})
    assert len(events(ctx, t)) == 1


def test_solving_stamps_and_a_requester_reply_reopens(ctx) -> None:  # type: ignore[no-untyped-def]
    t = ticket(ctx)
    services.ticket_change_status(tenant=ctx, actor=SYSTEM, ticket_id=t.pk, status="solved")
    t.refresh_from_db()
    assert t.solved_at is not None
    services.ticket_message_add(
        tenant=ctx, actor=SYSTEM, ticket_id=t.pk, body="Still broken!", as_requester=True
    )
    t.refresh_from_db()
    assert t.status == "open" and t.solved_at is None
    assert events(ctx, t)[-1].payload["changes"]["status"] == {"from": "solved", "to": "open"}


def test_agent_reply_opens_new_ticket_and_sets_first_response(ctx) -> None:  # type: ignore[no-untyped-def]
    agent = actor_for(ctx, "agent")
    t = ticket(ctx)
    services.ticket_message_add(
        tenant=ctx, actor=agent, ticket_id=t.pk, body="Looking", public=False
    )
    t.refresh_from_db()
    assert t.status == "new" and t.first_response_at is None  # notes are not responses
    services.ticket_message_add(tenant=ctx, actor=agent, ticket_id=t.pk, body="Fixed it.")
    t.refresh_from_db()
    assert t.status == "open" and t.first_response_at is not None


def test_closed_tickets_are_read_only(ctx) -> None:  # type: ignore[no-untyped-def]
    t = ticket(ctx)
    services.ticket_change_status(tenant=ctx, actor=SYSTEM, ticket_id=t.pk, status="closed")
    with pytest.raises(TicketClosedError):
        services.ticket_update(tenant=ctx, actor=SYSTEM, ticket_id=t.pk, changes={"status": "open"})
    with pytest.raises(TicketClosedError):
        services.ticket_message_add(
            tenant=ctx, actor=SYSTEM, ticket_id=t.pk, body="hi", as_requester=True
        )


def test_duplicate_channel_message_ids_do_not_duplicate(ctx) -> None:  # type: ignore[no-untyped-def]
    first = ticket(ctx, channel="email", channel_message_id="<abc@mail>")
    again = ticket(ctx, channel="email", channel_message_id="<abc@mail>")
    assert first.pk == again.pk and Ticket.objects.count() == 1
    m1 = services.ticket_message_add(
        tenant=ctx,
        actor=SYSTEM,
        ticket_id=first.pk,
        body="re",
        as_requester=True,
        channel_message_id="<def@mail>",
    )
    m2 = services.ticket_message_add(
        tenant=ctx,
        actor=SYSTEM,
        ticket_id=first.pk,
        body="re",
        as_requester=True,
        channel_message_id="<def@mail>",
    )
    assert m1.pk == m2.pk


def test_light_agents_only_add_internal_notes(ctx) -> None:  # type: ignore[no-untyped-def]
    light = actor_for(ctx, "light_agent")
    t = ticket(ctx)
    note = services.ticket_message_add(
        tenant=ctx, actor=light, ticket_id=t.pk, body="fyi", public=False
    )
    assert note.is_internal
    with pytest.raises(PermissionDenied):
        services.ticket_message_add(tenant=ctx, actor=light, ticket_id=t.pk, body="hi")
    with pytest.raises(PermissionDenied):
        services.ticket_update(tenant=ctx, actor=light, ticket_id=t.pk, changes={"status": "open"})


def test_read_only_api_keys_cannot_write(ctx) -> None:  # type: ignore[no-untyped-def]
    reader = Actor(user=None, role="api", label="api-key:x", api_scope="read")
    with pytest.raises(PermissionDenied):
        ticket(ctx, actor=reader)


def test_customers_see_and_reply_to_their_own_tickets_only(ctx) -> None:  # type: ignore[no-untyped-def]
    customer = actor_for(ctx, "customer")
    mine = ticket(ctx, actor=customer, requester_email=None)
    other = ticket(ctx)
    visible = Ticket.objects.filter(access.ticket_scope(tenant=ctx, actor=customer))
    assert list(visible) == [mine]
    assert Contact.objects.get(pk=mine.requester_id).user_id == customer.user_id
    assert Event.objects.filter(
        type="contact.user_linked", subject_id=str(mine.requester_id)
    ).exists()
    msg = services.ticket_message_add(
        tenant=ctx, actor=customer, ticket_id=mine.pk, body="any news?", public=False
    )
    assert msg.public and msg.author_contact_id == mine.requester_id  # forced public
    with pytest.raises(Ticket.DoesNotExist):
        services.ticket_message_add(tenant=ctx, actor=customer, ticket_id=other.pk, body="x")


def test_agents_restricted_to_their_teams_when_the_tenant_says_so(ctx) -> None:  # type: ignore[no-untyped-def]
    agent = actor_for(ctx, "agent")
    team = Team.objects.create(tenant=ctx, name="Billing")
    other_team = Team.objects.create(tenant=ctx, name="Tech")
    assert agent.user is not None
    TeamMember.objects.create(tenant=ctx, team=team, user=agent.user)
    ours, theirs, assigned = (
        ticket(ctx, team_id=team.pk),
        ticket(ctx, team_id=other_team.pk),
        ticket(ctx, team_id=other_team.pk, assignee_id=agent.user_id),
    )
    assert Ticket.objects.filter(access.ticket_scope(tenant=ctx, actor=agent)).count() == 3
    ctx.settings = {"restrict_agents_to_own_teams": True}
    ctx.save()
    visible = set(Ticket.objects.filter(access.ticket_scope(tenant=ctx, actor=agent)))
    assert visible == {ours, assigned}
    with pytest.raises(Ticket.DoesNotExist):
        services.ticket_update(
            tenant=ctx, actor=agent, ticket_id=theirs.pk, changes={"priority": "high"}
        )


def test_assign_refuses_customers_and_unknown_teams(ctx) -> None:  # type: ignore[no-untyped-def]
    customer = actor_for(ctx, "customer")
    t = ticket(ctx)
    with pytest.raises(ValidationError, match="agent"):
        services.ticket_assign(
            tenant=ctx, actor=SYSTEM, ticket_id=t.pk, assignee_id=customer.user_id
        )
    with pytest.raises(ValidationError):
        services.ticket_assign(
            tenant=ctx, actor=SYSTEM, ticket_id=t.pk, assignee_id=None, team_id=999999
        )
    agent = actor_for(ctx, "agent")
    services.ticket_assign(tenant=ctx, actor=SYSTEM, ticket_id=t.pk, assignee_id=agent.user_id)
    assert events(ctx, t)[-1].payload["changes"]["assignee_id"] == {
        "from": None,
        "to": agent.user_id,
    }


def test_tags_add_and_remove(ctx) -> None:  # type: ignore[no-untyped-def]
    t = ticket(ctx, tags=["a", "b"])
    t = services.ticket_tags_change(
        tenant=ctx, actor=SYSTEM, ticket_id=t.pk, add=["c", "a"], remove=["b"]
    )
    assert t.tags == ["a", "c"]


def test_bulk_update_is_all_or_nothing(ctx) -> None:  # type: ignore[no-untyped-def]
    a, b, c = ticket(ctx), ticket(ctx), ticket(ctx)
    services.ticket_change_status(tenant=ctx, actor=SYSTEM, ticket_id=c.pk, status="closed")
    with pytest.raises(ValidationError, match="#3"):
        services.tickets_bulk_update(
            tenant=ctx, actor=SYSTEM, ticket_ids=[a.pk, b.pk, c.pk], changes={"priority": "high"}
        )
    assert set(Ticket.objects.values_list("priority", flat=True)) == {1}
    done = services.tickets_bulk_update(
        tenant=ctx,
        actor=SYSTEM,
        ticket_ids=[a.pk, b.pk],
        changes={"priority": "high", "tags_add": ["bulk"]},
    )
    assert {t.priority for t in done} == {2} and all("bulk" in t.tags for t in done)
    assert events(ctx, a)[-1].payload["bulk"] is True
    with pytest.raises(ValidationError, match="Not found"):
        services.tickets_bulk_update(
            tenant=ctx, actor=SYSTEM, ticket_ids=[a.pk, 987654], changes={"priority": "low"}
        )


def test_merge_moves_the_conversation_and_closes_the_source(ctx) -> None:  # type: ignore[no-untyped-def]
    source = ticket(ctx, subject="Printer on fire", body="The printers smoke", tags=["hw"])
    target = ticket(ctx, subject="Office issues", tags=["office"])
    services.ticket_merge(tenant=ctx, actor=SYSTEM, source_id=source.pk, target_id=target.pk)
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.status == "closed" and source.merged_into_id == target.pk
    assert target.tags == ["office", "hw"]
    assert Message.objects.filter(ticket=target, public=True).count() == 2
    assert Message.objects.filter(ticket=source).count() == 1  # the "merged into" note
    printer = SearchQuery("printer", config="english")
    assert Ticket.objects.filter(pk=target.pk, search_vector=printer).exists()
    assert events(ctx, source)[-1].type == "ticket.merged"
    with pytest.raises(TicketClosedError):
        services.ticket_merge(tenant=ctx, actor=SYSTEM, source_id=source.pk, target_id=target.pk)
    with pytest.raises(ValidationError):
        services.ticket_merge(tenant=ctx, actor=SYSTEM, source_id=target.pk, target_id=target.pk)


def test_split_moves_messages_into_a_new_ticket(ctx) -> None:  # type: ignore[no-untyped-def]
    t = ticket(ctx)
    extra = services.ticket_message_add(
        tenant=ctx,
        actor=SYSTEM,
        ticket_id=t.pk,
        body="Also, my invoice is wrong",
        as_requester=True,
    )
    new = services.ticket_split(
        tenant=ctx, actor=SYSTEM, ticket_id=t.pk, message_ids=[extra.pk], subject="Invoice wrong"
    )
    assert new.number == 2 and new.requester_id == t.requester_id
    assert list(Message.objects.filter(ticket=new)) == [extra]
    first = Message.objects.filter(ticket=t, public=True).get()
    with pytest.raises(ValidationError, match="stay"):
        services.ticket_split(tenant=ctx, actor=SYSTEM, ticket_id=t.pk, message_ids=[first.pk])


def test_macro_sets_fields_and_replies_with_placeholders(ctx) -> None:  # type: ignore[no-untyped-def]
    agent = actor_for(ctx, "agent")
    macro = Macro.objects.create(
        tenant=ctx,
        name="Solve with thanks",
        actions=[{"field": "status", "value": "solved"}, {"field": "tags_add", "value": "thanked"}],
        reply_body="Hi {{requester.name}}, ticket #{{ticket.number}} is fixed. "
        "<b>{{agent.name}}</b>",
    )
    t = ticket(ctx)
    t = services.macro_apply(tenant=ctx, actor=agent, ticket_id=t.pk, macro_id=macro.pk)
    assert t.status == "solved" and "thanked" in t.tags
    reply = Message.objects.filter(ticket=t, author_user=agent.user).get()
    assert "Hi Pat Customer, ticket #1 is fixed." in reply.body_text
    assert events(ctx, t)[-1].payload["macro"]["name"] == "Solve with thanks"
