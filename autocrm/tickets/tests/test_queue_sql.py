"""The queue statement written by tickets.queue_sql against the ORM's, on real PostgreSQL:
the same pages (rows, order, next_cursor) for a generated matrix of filters, sorts,
cursors and roles, the same plans, and the builder actually taking the common shapes."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from autocrm.accounts.actors import actor_for_membership
from autocrm.accounts.models import Membership
from autocrm.accounts.tests.factories import member
from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing.models import Team, TeamMember
from autocrm.tickets import queue_sql, selectors
from autocrm.tickets.models import Ticket
from autocrm.tickets.query import SORTS, parse_query
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db


def _actor(tenant: Tenant, user: Any) -> Actor:
    return actor_for_membership(Membership.objects.select_related("user").get(user=user))


@pytest.fixture
def queue(tenant_a: Tenant) -> Iterator[dict[str, Any]]:
    """28 tickets spread over every filtered column (and ties in priority), two teams,
    three agents; the restricted agent and light agent are members of one team."""
    with tenant_context(tenant_a):
        users = {role: member(tenant_a, role) for role in ("agent", "light_agent", "admin")}
        other = member(tenant_a, "agent")
        customer = member(tenant_a, "customer")
        billing = Team.objects.create(tenant=tenant_a, name="Billing")
        tech = Team.objects.create(tenant=tenant_a, name="Tech")
        for user in (users["agent"], users["light_agent"]):
            TeamMember.objects.create(tenant=tenant_a, team=billing, user=user)
        rng = random.Random(10)
        requesters = ["a@customer.test", "b@customer.test", "c@customer.test"]
        assignees = [None, users["agent"].pk, other.pk]
        for n in range(28):
            ticket(
                tenant_a,
                subject=f"Queue ticket {n}",
                requester_email=requesters[n % 3],
                status=rng.choice(["new", "open", "pending", "on_hold"]),
                priority=rng.choice(["low", "normal", "high", "urgent"]),
                type=rng.choice(["", "question", "incident"]),
                channel=rng.choice(["email", "web", "api"]),
                tags=rng.sample(["vip", "billing", "spam", "refund"], rng.randint(0, 2)),
                team_id=rng.choice([None, billing.pk, tech.pk]),
                assignee_id=assignees[n % 3],
            )
        actors = {
            "agent": _actor(tenant_a, users["agent"]),
            "light_agent": _actor(tenant_a, users["light_agent"]),
            "admin": _actor(tenant_a, users["admin"]),
            "api": Actor.for_api_key(prefix="abc", scope="read", tenant_id=tenant_a.pk),
            "system": SYSTEM,
            "customer": _actor(tenant_a, customer),
        }
        requester_id = Ticket.objects.filter(tenant=tenant_a).order_by("id")[0].requester_id
        yield {
            "tenant": tenant_a,
            "actors": actors,
            "terms": [
                ["", "status:open", "status:new,pending,on_hold"],
                ["", "priority:high", "priority:low,urgent"],
                ["", "type:incident", "type:question,incident"],
                ["", "channel:email", "channel:web,api"],
                ["", "assignee:none", "assignee:me", f"assignee:{other.pk}"],
                ["", "team:none", f"team:{billing.pk}", f"team:{tech.pk}"],
                ["", f"requester:{requester_id}"],
                ["", "tag:vip", "tag:vip,billing"],
                ["", "-tag:spam", "-tag:spam,refund"],
            ],
        }


def _queries(terms: list[list[str]], count: int) -> list[str]:
    """Each term alone with every sort, then ``count`` random combinations (fixed seed)."""
    rng = random.Random(4)
    sorts = [f"sort:{s}" for s in SORTS]
    singles = [f"{term} {sort}" for group in terms for term in group if term for sort in sorts]
    mixed = [
        " ".join([*(rng.choice(group) for group in terms), rng.choice(sorts)]) for _ in range(count)
    ]
    return [*singles, *mixed]


def _pages(tenant: Tenant, actor: Actor, query: str) -> list[tuple[list[int], str | None]]:
    """Every page of ``query`` (4 rows each), followed through its cursors."""
    pages: list[tuple[list[int], str | None]] = []
    cursor: str | None = None
    while True:
        page = selectors.ticket_list(
            tenant=tenant, actor=actor, filters=parse_query(query), cursor=cursor, limit=4
        )
        pages.append(([t.id for t in page.items], page.next_cursor))
        if page.next_cursor is None or len(pages) > 10:
            return pages
        cursor = page.next_cursor


def _orm_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_sql, "queue_statement", lambda **kw: None)


def _compare(queue: dict[str, Any], monkeypatch: pytest.MonkeyPatch, roles: list[str]) -> int:
    tenant = queue["tenant"]
    compared = 0
    for role, query in itertools.product(roles, _queries(queue["terms"], 40)):
        actor = queue["actors"][role]
        with monkeypatch.context() as patch:
            _orm_only(patch)
            expected = _pages(tenant, actor, query)
        assert _pages(tenant, actor, query) == expected, (role, query)
        compared += sum(len(ids) for ids, _ in expected)
    return compared


def test_same_pages_as_the_orm_for_every_role(queue, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(queue["tenant"]):
        rows = _compare(queue, monkeypatch, ["agent", "light_agent", "admin", "api", "customer"])
    assert rows > 1000  # the matrix is not a set of empty pages


def test_same_pages_as_the_orm_for_agents_restricted_to_their_teams(queue, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tenant = queue["tenant"]
    tenant.settings = {**tenant.settings, "restrict_agents_to_own_teams": True}
    tenant.save()
    with tenant_context(tenant):
        every = Ticket.objects.filter(tenant=tenant).count()
        seen = selectors.ticket_list(
            tenant=tenant, actor=queue["actors"]["agent"], filters=parse_query(""), limit=200
        )
        assert 0 < len(seen.items) < every  # the scope is in force
        assert _compare(queue, monkeypatch, ["agent", "light_agent"]) > 300


def _sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []
    real = sql.fetch_all

    def fetch_all(statement: str, params: Any, **options: Any) -> list[tuple[Any, ...]]:
        sent.append(statement)
        return real(statement, params, **options)

    monkeypatch.setattr(sql, "fetch_all", fetch_all)
    return sent


def test_the_common_shapes_take_the_builder(queue, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every query of the matrix, for every staff role, runs the builder's statement and
    compiles no queryset (it cannot fall back to the ORM unnoticed)."""
    tenant = queue["tenant"]
    sent = _sent(monkeypatch)
    with tenant_context(tenant):
        for role, query in itertools.product(
            ["agent", "light_agent", "admin", "api", "system"], _queries(queue["terms"], 40)
        ):
            actor = queue["actors"][role]
            if "assignee:me" in query and actor.user_id is None:
                continue  # matches nothing: the ORM's empty result answers it
            filters = parse_query(query)
            sent.clear()
            selectors.ticket_list(tenant=tenant, actor=actor, filters=filters, limit=4)
            sort = filters.sort if filters.sort not in {None, "relevance"} else None
            keys = selectors.SORT_KEYS[
                sort or ("priority" if filters.sort is None else "-updated_at")
            ]
            statement = queue_sql.queue_statement(
                tenant=tenant, actor=actor, filters=filters, keys=keys, after=None, limit=5
            )
            assert statement is not None, (role, query)
            assert sent == [statement[0]], (role, query)


def test_other_shapes_keep_the_orm(queue) -> None:  # type: ignore[no-untyped-def]
    tenant = queue["tenant"]
    keys = selectors.SORT_KEYS["priority"]
    with tenant_context(tenant):
        for query in ["refund", "cf.plan:pro", "created>2025-01-01", "requester:a@customer.test"]:
            assert (
                queue_sql.queue_statement(
                    tenant=tenant,
                    actor=SYSTEM,
                    filters=parse_query(query),
                    keys=keys,
                    after=None,
                    limit=5,
                )
                is None
            ), query
        customer = queue["actors"]["customer"]
        assert (
            queue_sql.queue_statement(
                tenant=tenant,
                actor=customer,
                filters=parse_query(""),
                keys=keys,
                after=None,
                limit=5,
            )
            is None
        )


def _plan(statement: str, params: list[Any]) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (COSTS OFF, FORMAT JSON) {statement}", params)
        return cursor.fetchone()[0][0]["Plan"]


def _from(statement: str) -> str:
    return statement.split(" FROM ", 1)[1].split(" WHERE ", 1)[0]


def test_the_builder_plans_like_the_orm(queue) -> None:  # type: ignore[no-untyped-def]
    """The same plan for the same filters, page 1 and after a cursor (here on a small table;
    docs/tickets-performance.md has them on a seeded data set), with the ORM's joins (their
    order and kind depend on the filters)."""
    tenant = queue["tenant"]
    compared = 0
    with tenant_context(tenant):
        for restricted, role, query in itertools.product(
            [False, True], ["agent", "api"], _queries(queue["terms"], 40)[::5]
        ):
            if tenant.setting("restrict_agents_to_own_teams") != restricted:
                tenant.settings = {**tenant.settings, "restrict_agents_to_own_teams": restricted}
                tenant.save()
            actor = queue["actors"][role]
            filters = parse_query(query)
            page = selectors.ticket_list(tenant=tenant, actor=actor, filters=filters, limit=2)
            for cursor in [None, page.next_cursor]:
                sort = filters.sort or "priority"
                sort = "-updated_at" if sort == "relevance" else sort
                after = selectors._decode_cursor(cursor, sort)[0] if cursor else None
                built = queue_sql.queue_statement(
                    tenant=tenant,
                    actor=actor,
                    filters=filters,
                    keys=selectors.SORT_KEYS[sort],
                    after=after,
                    limit=3,
                )
                if built is None:  # assignee:me for a key: nothing matches, the ORM says so
                    assert filters.assignee == "me" and actor.user_id is None
                    continue
                tickets = selectors._filtered(tenant=tenant, actor=actor, filters=filters)
                if after is not None:
                    tickets = tickets.filter(selectors._after_cursor(sort, after))
                order = [f"-{c}" if d else c for c, d in selectors.SORT_KEYS[sort]]
                orm_sql, orm_params = (
                    tickets.order_by(*order)
                    .values_list(*selectors._ROW_LOOKUPS)[:3]
                    .query.sql_with_params()
                )
                where = (restricted, role, query, cursor)
                assert _from(built[0]) == _from(orm_sql), where  # the ORM's joins
                assert _plan(*built) == _plan(orm_sql, list(orm_params)), where
                compared += 1
    assert compared > 40
