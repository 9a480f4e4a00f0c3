"""Auto-assignment: the methods, availability, capacity, coverage, and fairness under
concurrency (real PostgreSQL, four workers on their own connections)."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing import services
from autocrm.routing.models import Team
from autocrm.routing.services.assignment import ASSIGNER, Candidate, choose
from autocrm.routing.tests.factories import SYSTEM, agents, business_hours, dispatch_all, team
from autocrm.tickets.models import Ticket
from autocrm.tickets.tests.factories import ticket


def assign_all(tenant: Tenant, ticket_ids: list[int]) -> list[int | None]:
    """Each assignment in its own transaction, as each event's handler runs in the worker."""
    out = []
    for ticket_id in ticket_ids:
        with tenant_context(tenant):
            out.append(services.ticket_auto_assign(tenant=tenant, ticket_id=ticket_id))
    return out


def new_tickets(tenant: Tenant, support: Team, n: int, **values: Any) -> list[int]:
    with tenant_context(tenant):
        return [ticket(tenant, team_id=support.pk, **values).pk for _ in range(n)]


@pytest.mark.django_db
def test_round_robin_takes_turns(tenant_a: Tenant) -> None:
    ids = agents(tenant_a, 3)
    support = team(tenant_a, members=ids, assignment_method="round_robin")
    got = assign_all(tenant_a, new_tickets(tenant_a, support, 7))
    assert got[:3] == ids and got[3:6] == ids and got[6] == ids[0]


@pytest.mark.django_db
def test_least_loaded_fills_the_emptiest_and_respects_capacity(tenant_a: Tenant) -> None:
    a, b = agents(tenant_a, 2, capacity=2)
    support = team(tenant_a, members=[a, b], assignment_method="least_loaded")
    with tenant_context(tenant_a):
        ticket(tenant_a, assignee_id=a)  # a already holds one
    got = assign_all(tenant_a, new_tickets(tenant_a, support, 4))
    assert got == [b, a, b, None]  # then both are full


@pytest.mark.django_db
def test_away_and_offline_agents_get_nothing(tenant_a: Tenant) -> None:
    online, away = agents(tenant_a, 2)
    support = team(tenant_a, members=[online, away], assignment_method="round_robin")
    with tenant_context(tenant_a):
        services.agent_availability_set(
            tenant=tenant_a, actor=SYSTEM, user_id=away, availability="away"
        )
    assert set(assign_all(tenant_a, new_tickets(tenant_a, support, 3))) == {online}


@pytest.mark.django_db
def test_skills_come_from_tags_and_ai_triage(tenant_a: Tenant) -> None:
    german, french = agents(tenant_a, 2)
    with tenant_context(tenant_a):
        for user_id, skills in (
            (german, ["language:de"]),
            (french, ["language:fr", "product:billing"]),
        ):
            services.agent_profile_update(
                tenant=tenant_a, actor=SYSTEM, user_id=user_id, changes={"skills": skills}
            )
    support = team(tenant_a, members=[german, french], assignment_method="skills")
    [by_tag] = new_tickets(tenant_a, support, 1, tags=["skill:language:de"])
    [by_ai] = new_tickets(
        tenant_a, support, 1, metadata={"ai_triage": {"language": "FR", "product": "billing"}}
    )
    [nobody] = new_tickets(tenant_a, support, 1, tags=["skill:language:ja"])
    assert assign_all(tenant_a, [by_tag, by_ai, nobody]) == [german, french, None]


@pytest.mark.django_db
def test_manual_teams_and_assigned_tickets_are_left_alone(tenant_a: Tenant) -> None:
    [a] = agents(tenant_a, 1)
    manual = team(tenant_a, members=[a])
    assert assign_all(tenant_a, new_tickets(tenant_a, manual, 1)) == [None]


@pytest.mark.django_db
def test_outside_hours_tickets_go_to_the_handover_team(tenant_a: Tenant) -> None:
    day, night = agents(tenant_a, 2)
    never_open = business_hours(
        tenant_a, time_zone="UTC", hours=[{"day": "mon", "start": "00:00", "end": "00:01"}]
    )
    follow_the_sun = team(tenant_a, "Night", members=[night], assignment_method="round_robin")
    office = team(
        tenant_a,
        "Office",
        members=[day],
        assignment_method="round_robin",
        business_hours_id=never_open.pk,
        handover_team_id=follow_the_sun.pk,
    )
    [t] = new_tickets(tenant_a, office, 1)
    tuesday = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    with tenant_context(tenant_a):
        assert services.ticket_auto_assign(tenant=tenant_a, ticket_id=t, now=tuesday) == night
        assert Ticket.objects.get(pk=t).team_id == follow_the_sun.pk


@pytest.mark.django_db
def test_new_tickets_are_assigned_through_the_event_spine(tenant_a: Tenant) -> None:
    ids = agents(tenant_a, 2)
    support = team(tenant_a, members=ids, assignment_method="round_robin")
    tickets = new_tickets(tenant_a, support, 2)
    assert "ticket.routed" in dispatch_all(tenant_a)
    with tenant_context(tenant_a):
        assert sorted(
            Ticket.objects.filter(pk__in=tickets).values_list("assignee_id", flat=True)
        ) == sorted(ids)


def _concurrently(tenant: Tenant, ticket_ids: list[int], workers: int = 4) -> None:
    """Four workers, each on its own database connection, assign interleaved shares."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def work(share: list[int]) -> None:
        try:
            barrier.wait()
            assign_all(tenant, share)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(ticket_ids[i::workers],)) for i in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_four_workers_round_robin_within_one_ticket_per_agent(tenant_a: Tenant) -> None:
    ids = agents(tenant_a, 5)
    support = team(tenant_a, members=ids, assignment_method="round_robin")
    tickets = new_tickets(tenant_a, support, 203)
    _concurrently(tenant_a, tickets)
    with tenant_context(tenant_a):
        counts = Counter(
            Ticket.objects.filter(pk__in=tickets).values_list("assignee_id", flat=True)
        )
    assert None not in counts and sum(counts.values()) == 203
    assert max(counts.values()) - min(counts.values()) <= 1, counts


@pytest.mark.django_db(transaction=True)
def test_four_workers_never_assign_past_capacity(tenant_a: Tenant) -> None:
    ids = agents(tenant_a, 4, capacity=25)
    support = team(tenant_a, members=ids, assignment_method="least_loaded")
    other = team(tenant_a, "Other", members=ids[:2], assignment_method="least_loaded")
    # Two teams share two agents: their workers race for the same agents.
    tickets = new_tickets(tenant_a, support, 90) + new_tickets(tenant_a, other, 30)
    random.Random(7).shuffle(tickets)
    _concurrently(tenant_a, tickets)
    with tenant_context(tenant_a):
        held: list[int | None] = list(
            Ticket.objects.filter(pk__in=tickets).values_list("assignee_id", flat=True)
        )
    counts = Counter(a for a in held if a is not None)
    assert all(counts[a] == 25 for a in ids), counts  # 100 places, 120 tickets: all filled
    assert held.count(None) == 20


def _simulate(
    method: str, agents_n: int, tickets: int, capacity: int, workers: int = 4
) -> Counter[int]:
    """``tickets`` through ``choose`` by four workers taking turns at random, each choice
    made under the team lock and seeing every earlier commit (as in the database; the real
    four-connection tests above prove the locking). For least-loaded, agents also solve
    tickets at random meanwhile, so loads go down as well as up."""
    rng = random.Random(42)
    loads: Counter[int] = Counter()
    given: Counter[int] = Counter()
    last: dict[int, dt.datetime | None] = {i: None for i in range(agents_n)}
    clock = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for _ in range(tickets):
        rng.randrange(workers)  # whichever worker holds the team lock now
        pool = [Candidate(i, i, last[i], capacity, frozenset(), loads[i]) for i in range(agents_n)]
        chosen = choose(method, pool, frozenset())
        if chosen is not None:
            loads[chosen.user_id] += 1
            given[chosen.user_id] += 1
            clock += dt.timedelta(microseconds=rng.randint(1, 50))
            last[chosen.user_id] = clock
            assert capacity == 0 or loads[chosen.user_id] <= capacity
        if method == "least_loaded":
            for agent in range(agents_n):
                if loads[agent] and rng.random() < 0.1:
                    loads[agent] -= 1
    return given if method == "round_robin" else loads


def test_fairness_over_ten_thousand_simulated_tickets() -> None:
    round_robin = _simulate("round_robin", agents_n=7, tickets=10_000, capacity=0)
    assert sum(round_robin.values()) == 10_000
    assert max(round_robin.values()) - min(round_robin.values()) <= 1
    least = _simulate("least_loaded", agents_n=7, tickets=10_000, capacity=40)
    assert max(least.values()) <= 40


def set_channel_capacity(tenant: Tenant, user_ids: list[int], limits: dict[str, int]) -> None:
    with tenant_context(tenant):
        for user_id in user_ids:
            services.agent_profile_update(
                tenant=tenant, actor=SYSTEM, user_id=user_id, changes={"channel_capacity": limits}
            )


@pytest.mark.django_db
def test_capacity_per_channel_limits_that_channel_only(tenant_a: Tenant) -> None:
    a, b = agents(tenant_a, 2)
    set_channel_capacity(tenant_a, [a], {"chat": 1})
    support = team(tenant_a, members=[a, b], assignment_method="round_robin")
    chats = assign_all(tenant_a, new_tickets(tenant_a, support, 4, channel="chat"))
    assert chats.count(a) == 1 and chats.count(b) == 3
    # a's chat is full; e-mail still reaches a (no e-mail limit, no overall limit).
    mails = assign_all(tenant_a, new_tickets(tenant_a, support, 4, channel="email"))
    assert mails.count(a) == 2 and mails.count(b) == 2


@pytest.mark.django_db
def test_channel_capacity_is_validated(tenant_a: Tenant) -> None:
    from django.core.exceptions import ValidationError

    [a] = agents(tenant_a, 1)
    for bad in ({"fax": 2}, {"chat": -1}, {"chat": "3"}, ["chat"]):
        with pytest.raises(ValidationError) as info, tenant_context(tenant_a):
            services.agent_profile_update(
                tenant=tenant_a, actor=SYSTEM, user_id=a, changes={"channel_capacity": bad}
            )
        assert "channel_capacity" in info.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_four_workers_never_assign_past_channel_capacity(tenant_a: Tenant) -> None:
    ids = agents(tenant_a, 4, capacity=12)
    set_channel_capacity(tenant_a, ids, {"chat": 5})
    support = team(tenant_a, members=ids, assignment_method="least_loaded")
    chats = new_tickets(tenant_a, support, 30, channel="chat")
    mails = new_tickets(tenant_a, support, 40, channel="email")
    tickets = chats + mails
    random.Random(3).shuffle(tickets)
    _concurrently(tenant_a, tickets)
    with tenant_context(tenant_a):
        rows = list(Ticket.objects.filter(pk__in=tickets).values_list("channel", "assignee_id"))
    on_chat = Counter(a for channel, a in rows if channel == "chat" and a is not None)
    overall = Counter(a for _, a in rows if a is not None)
    assert all(on_chat[a] <= 5 for a in ids), on_chat
    assert all(overall[a] <= 12 for a in ids), overall
    # 48 places in all, at most 20 of them for chat: every place a ticket could take is taken.
    assert sum(overall.values()) == min(48, 40 + min(30, 20)), overall


@pytest.mark.django_db
def test_the_assignment_write_matches_what_ticket_update_records(tenant_a: Tenant) -> None:
    """Assignment writes the ticket row itself (ADR 0028): the same event, version and
    time as the tickets service gives for an assignee change."""
    from autocrm.core.models import Event
    from autocrm.tickets import services as ticket_services

    [a] = agents(tenant_a, 1)
    support = team(tenant_a, members=[a], assignment_method="round_robin")
    by_routing, by_service = new_tickets(tenant_a, support, 2)
    with tenant_context(tenant_a):
        before = Ticket.objects.get(pk=by_routing)
        services.ticket_auto_assign(tenant=tenant_a, ticket_id=by_routing)
        ticket_services.ticket_update(
            tenant=tenant_a, actor=ASSIGNER, ticket_id=by_service,
            changes={"assignee_id": a},
        )  # fmt: skip
        after = Ticket.objects.get(pk=by_routing)
        events = {
            int(e.subject_id): e
            for e in Event.objects.filter(
                type="ticket.updated", subject_id__in=[str(by_routing), str(by_service)]
            )
        }
        routed = Event.objects.get(type="ticket.routed", subject_id=str(by_routing))
    assert after.assignee_id == a and after.version == before.version + 1
    assert after.updated_at > before.updated_at
    mine, theirs = events[by_routing], events[by_service]
    assert mine.payload["changes"] == theirs.payload["changes"]
    assert set(mine.payload) == set(theirs.payload)
    assert mine.payload["number"] == after.number
    assert (mine.subject_type, mine.actor_label) == (theirs.subject_type, theirs.actor_label)
    assert mine.pk < routed.pk
    assert routed.payload == {"team_id": support.pk, "assignee_id": a, "method": "round_robin"}
