from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from autocrm.accounts.actors import actor_for_membership
from autocrm.core.actors import Actor
from autocrm.core.tenancy import tenant_context
from autocrm.routing.models import Team
from autocrm.tickets import selectors, services, text_search
from autocrm.tickets.query import parse_query
from autocrm.tickets.selectors import CursorError
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(tenant_a):  # type: ignore[no-untyped-def]
    with tenant_context(tenant_a):
        yield tenant_a


def listing(tenant, query: str = "", actor: Actor = SYSTEM, **kw):  # type: ignore[no-untyped-def]
    return selectors.ticket_list(tenant=tenant, actor=actor, filters=parse_query(query), **kw)


def numbers(page) -> list[int]:  # type: ignore[no-untyped-def]
    return [t.number for t in page.items]


def test_full_text_matches_subject_and_messages_with_highlights(ctx) -> None:  # type: ignore[no-untyped-def]
    a = ticket(ctx, subject="Refund for order 1234", body="I was charged twice.")
    b = ticket(ctx, subject="Question", body="Where can I download my invoices?")
    services.ticket_message_add(
        tenant=ctx,
        actor=SYSTEM,
        ticket_id=b.pk,
        body="Also the refunds page is blank.",
        as_requester=True,
    )
    ticket(ctx, subject="Password", body="Reset please")
    page = listing(ctx, "refund")
    assert set(numbers(page)) == {a.number, b.number}
    highlights = {t.number: t.highlight for t in page.items}
    assert "<mark>Refund</mark>" in highlights[a.number]["subject"]
    assert "<mark>refunds</mark>" in highlights[b.number]["snippet"]
    assert numbers(listing(ctx, '"charged twice"')) == [a.number]
    assert numbers(listing(ctx, '"twice charged"')) == []


def test_partial_words_and_typos_match_the_subject(ctx) -> None:  # type: ignore[no-untyped-def]
    t = ticket(ctx, subject="Invoice address is wrong", body="Please change it.")
    assert numbers(listing(ctx, "invoce")) == [t.number]  # typo
    assert numbers(listing(ctx, "invo")) == [t.number]  # partial word


def test_internal_notes_are_searchable_by_staff_but_never_shown_to_customers(ctx) -> None:  # type: ignore[no-untyped-def]
    t = ticket(ctx)
    services.ticket_message_add(
        tenant=ctx, actor=SYSTEM, ticket_id=t.pk, body="Customer is a known fraudster", public=False
    )
    page = listing(ctx, "fraudster")
    assert numbers(page) == [t.number] and "fraudster" in page.items[0].highlight["snippet"]


def test_filters_by_fields_tags_custom_fields_and_dates(ctx) -> None:  # type: ignore[no-untyped-def]
    team = Team.objects.create(tenant=ctx, name="Billing")
    a = ticket(ctx, priority="high", tags=["billing", "vip"], team_id=team.pk, type="incident")
    b = ticket(ctx, priority="low", tags=["billing", "spam"])
    c = ticket(ctx, status="pending")
    assert numbers(listing(ctx, "tag:billing -tag:spam")) == [a.number]
    assert numbers(listing(ctx, f"team:{team.pk} priority:high type:incident")) == [a.number]
    assert set(numbers(listing(ctx, "status:new"))) == {a.number, b.number}
    assert numbers(listing(ctx, "is:pending")) == [c.number]
    assert set(numbers(listing(ctx, "is:unassigned created>2000-01-01"))) == {
        a.number,
        b.number,
        c.number,
    }
    assert numbers(listing(ctx, "created<2000-01-01")) == []
    assert numbers(listing(ctx, "requester:pat@customer.test sort:number"))[:1] == [a.number]


def test_queue_order_is_priority_then_recency_and_cursor_pages_do_not_overlap(ctx) -> None:  # type: ignore[no-untyped-def]
    made = [ticket(ctx, priority=p) for p in ["low", "urgent", "normal", "urgent", "high"] * 3]
    seen: list[int] = []
    cursor = None
    while True:
        page = listing(ctx, "status:new", cursor=cursor, limit=4)
        seen += numbers(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    by_rank = sorted(made, key=lambda t: (-t.priority, -t.updated_at.timestamp(), -t.pk))
    assert seen == [t.number for t in by_rank]


@pytest.mark.parametrize("sort", ["-updated_at", "created_at", "number", "-number"])
def test_every_sort_pages_through_everything_once(ctx, sort: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(7):
        ticket(ctx)
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = listing(ctx, f"sort:{sort}", cursor=cursor, limit=3)
        seen += numbers(page)
        if (cursor := page.next_cursor) is None:
            break
    assert sorted(seen) == list(range(1, 8)) and len(seen) == 7


@pytest.mark.parametrize("cursor", ["garbage", "eyJzIjoibnVtYmVyIiwidiI6WzFdfQ", "e30"])
def test_bad_cursors_raise(ctx, cursor: str) -> None:  # type: ignore[no-untyped-def]
    ticket(ctx)
    with pytest.raises(CursorError):
        listing(ctx, "sort:-updated_at", cursor=cursor)


def test_a_cursor_of_another_sort_is_refused(ctx) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        ticket(ctx)
    page = listing(ctx, "sort:number", limit=1)
    with pytest.raises(CursorError, match="another sort"):
        listing(ctx, "sort:-number", cursor=page.next_cursor)


def test_customers_get_their_tickets_and_public_messages_only(ctx) -> None:  # type: ignore[no-untyped-def]
    from autocrm.accounts.models import Membership
    from autocrm.accounts.tests.factories import member

    user = member(ctx, "customer")
    customer = actor_for_membership(Membership.objects.select_related("user").get(user=user))
    mine = ticket(ctx, actor=customer, requester_email=None)
    ticket(ctx)
    services.ticket_message_add(
        tenant=ctx, actor=SYSTEM, ticket_id=mine.pk, body="secret note", public=False
    )
    assert numbers(listing(ctx, actor=customer)) == [mine.number]
    # Text search reaches the message text, notes included: a match would reveal a note.
    with pytest.raises(PermissionDenied):
        listing(ctx, "secret", actor=customer)
    assert [m.public for m in selectors.message_list(tenant=ctx, actor=customer, ticket=mine)] == [
        True
    ]
    assert not selectors.ticket_timeline(tenant=ctx, actor=customer, ticket=mine).exists()


def test_timeline_shows_who_changed_what(ctx) -> None:  # type: ignore[no-untyped-def]
    t = ticket(ctx)
    services.ticket_update(tenant=ctx, actor=SYSTEM, ticket_id=t.pk, changes={"priority": "high"})
    types = [e.type for e in selectors.ticket_timeline(tenant=ctx, actor=SYSTEM, ticket=t)]
    assert types == ["ticket.updated", "ticket.created"]


def _all_pages(tenant, query: str, limit: int) -> list[int]:  # type: ignore[no-untyped-def]
    found: list[int] = []
    cursor = None
    while True:
        page = listing(tenant, query, limit=limit, cursor=cursor, highlight=False)
        found += numbers(page)
        cursor = page.next_cursor
        if cursor is None:
            return found


@pytest.mark.parametrize(
    ("window", "cap"),
    [
        (1, 1),  # window too small, too many matches for the index path: the ordered walk
        (1, 50),  # window too small: every match from the GIN index, sorted
        (2, 3),
        (3, 100),
        (50, 5000),  # the window holds everything
    ],
)
def test_text_search_pages_are_the_same_whichever_shape_answers(  # type: ignore[no-untyped-def]
    ctx, monkeypatch: pytest.MonkeyPatch, window: int, cap: int
) -> None:
    """Small limits force the other plan shapes; each gives every match once, newest
    first, page after page."""
    made = [
        ticket(ctx, subject=f"Refund request {n}" if n % 3 == 0 else f"Shipping {n}", body="Hi")
        for n in range(12)
    ]
    refunds = [t.number for t in reversed(made) if t.subject.startswith("Refund")]
    monkeypatch.setattr(text_search, "SEARCH_WINDOW", window)
    monkeypatch.setattr(text_search, "MATCH_CAP", cap)
    assert _all_pages(ctx, "refund", limit=2) == refunds
    assert _all_pages(ctx, "refund status:new", limit=1) == refunds
    assert _all_pages(ctx, "nothingmatchesthis", limit=2) == []
    # the index-only path switches planner settings for one statement, not the request
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan')"
        )
        assert cursor.fetchone() == ("on", "on")


def test_typos_are_matched_only_when_nothing_matches_exactly(  # type: ignore[no-untyped-def]
    ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_search, "SEARCH_WINDOW", 2)
    invoices = [ticket(ctx, subject=f"Invoice {n} is wrong", body="Hi") for n in range(3)]
    exact = ticket(ctx, subject="Invoce printed on paper", body="Hi")  # the typo, as a word
    # "invoce" matches one ticket exactly: no typo-tolerant results are mixed in
    assert numbers(listing(ctx, "invoce")) == [exact.number]
    # "invoise" matches nothing exactly: similar subjects, newest first, page after page
    expected = [t.number for t in reversed([*invoices, exact])]
    assert _all_pages(ctx, "invoise", limit=1) == expected
