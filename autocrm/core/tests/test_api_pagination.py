"""Keyset pagination: complete, stable under inserts, mixed directions, bad cursors refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from autocrm.core.api.pagination import _encode, keyset_page
from autocrm.core.models import Event, Tenant
from autocrm.core.problems import InvalidInput
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def _events(tenant: Tenant, n: int) -> list[Event]:
    base = timezone.now()
    events = []
    for i in range(n):
        event = Event.objects.create(tenant=tenant, type="t", subject_type="s", subject_id=str(i))
        # Pairs share a timestamp, so the id has to break ties.
        Event.objects.filter(pk=event.pk).update(created_at=base - dt.timedelta(seconds=i // 2))
        events.append(event)
    return events


def _walk(tenant: Tenant, ordering: tuple[str, ...], limit: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = keyset_page(
            Event.objects.filter(tenant=tenant), ordering=ordering, cursor=cursor, limit=limit
        )
        seen.extend(e.pk for e in page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize(
    "ordering",
    [("-created_at", "-id"), ("created_at", "id"), ("-created_at", "id"), ("subject_id", "id")],
)
@pytest.mark.parametrize("limit", [1, 3, 7, 50])
def test_walking_all_pages_yields_every_row_once_in_order(
    tenant_a: Tenant, ordering: tuple[str, ...], limit: int
) -> None:
    with tenant_context(tenant_a):
        _events(tenant_a, 11)
        expected = list(Event.objects.order_by(*ordering).values_list("pk", flat=True))
        assert _walk(tenant_a, ordering, limit) == expected


def test_rows_inserted_meanwhile_do_not_shift_the_pages(tenant_a: Tenant) -> None:
    """Newest first: a row created between two page loads sorts before the cursor. With
    offsets the second page would repeat a row; with the keyset it continues exactly."""
    with tenant_context(tenant_a):
        _events(tenant_a, 6)
        original = list(Event.objects.order_by("-id").values_list("pk", flat=True))
        first = keyset_page(Event.objects.all(), ordering=("-id",), cursor=None, limit=3)
        Event.objects.create(tenant=tenant_a, type="t", subject_type="s", subject_id="new")
        second = keyset_page(
            Event.objects.all(), ordering=("-id",), cursor=first.next_cursor, limit=3
        )
        assert [e.pk for e in first.items] + [e.pk for e in second.items] == original


def test_the_last_page_has_no_cursor(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        _events(tenant_a, 3)
        page = keyset_page(Event.objects.all(), ordering=("id",), cursor=None, limit=3)
        assert len(page.items) == 3 and page.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        "e30",  # {}
        _encode(("id",), [1]),  # another listing's ordering
        _encode(("-created_at", "-id"), ["yesterday", 1]),  # not a datetime
        _encode(("-created_at", "-id"), [None, 1]),
    ],
)
def test_bad_cursors_are_422_naming_the_cursor(tenant_a: Tenant, cursor: Any) -> None:
    with tenant_context(tenant_a), pytest.raises(InvalidInput) as raised:
        keyset_page(Event.objects.all(), ordering=("-created_at", "-id"), cursor=cursor)
    assert raised.value.errors[0]["field"] == "query.cursor"
