"""The agent's queues: built-in views, the tenant's saved views, and what the session
remembers (the last view opened, the ticket numbers of the list on screen for prev/next)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.tickets import config_selectors, selectors
from autocrm.tickets.query import parse_query

UNSOLVED = "status:new,open,pending,on_hold"
# key -> (name, query in the agent search syntax of docs/tickets.md)
BUILT_IN: dict[str, tuple[str, str]] = {
    "mine": ("My unsolved", f"assignee:me {UNSOLVED}"),
    "unassigned": ("Unassigned", f"is:unassigned {UNSOLVED}"),
    "all": ("All unsolved", UNSOLVED),
    "pending": ("Pending", "status:pending"),
    "solved": ("Recently solved", "status:solved sort:-updated_at"),
}
DEFAULT_VIEW = "all"
# Sorts the table headers offer (the selector's keyset orders).
SORTS = {"number": "-number", "updated": "-updated_at", "priority": "priority"}

LAST_VIEW_KEY = "workspace.queue"
ON_SCREEN_KEY = "workspace.queue_numbers"
ON_SCREEN_MAX = 1000  # the prev/next memory: the rows loaded, capped


# Views count their tickets up to this many; the nav shows "999+" beyond (a view of a
# quarter million tickets is "a lot" to an agent, and counting them all took 100+ ms each).
COUNT_CAP = 1000


@dataclass(frozen=True)
class QueueView:
    key: str  # a built-in key or "v<saved view id>"
    name: str
    query: str
    count: int | None = None

    @property
    def count_label(self) -> str:
        """``42``, or ``999+`` once the count reached the cap."""
        if self.count is None:
            return ""
        return f"{COUNT_CAP - 1}+" if self.count >= COUNT_CAP else str(self.count)

    @property
    def count_spoken(self) -> str:
        """What a screen reader says for the count."""
        if self.count is not None and self.count >= COUNT_CAP:
            return f"more than {COUNT_CAP - 1} tickets"
        return f"{self.count} ticket{'' if self.count == 1 else 's'}"


def saved_query(query: str, sort: str) -> str:
    """A saved view's query with its sort, as one search text."""
    if "sort:" in query or not sort:
        return query
    return f"{query} sort:{sort}".strip()


def all_views(*, tenant: Tenant, actor: Actor) -> list[QueueView]:
    views = [QueueView(key, name, query) for key, (name, query) in BUILT_IN.items()]
    for pk, name, query, sort in config_selectors.ticket_view_choices(tenant=tenant, actor=actor):
        views.append(QueueView(f"v{pk}", name, saved_query(query, sort)))
    return views


def with_counts(*, tenant: Tenant, actor: Actor, views: list[QueueView]) -> list[QueueView]:
    """Each view with its number of tickets up to ``COUNT_CAP``: one COUNT per view, never
    per ticket. A saved view whose query no longer parses shows no count rather than
    failing the page."""
    counted = []
    for view in views:
        try:
            filters = parse_query(view.query)
        except ValueError:
            counted.append(view)
            continue
        count = selectors.ticket_count(tenant=tenant, actor=actor, filters=filters, cap=COUNT_CAP)
        counted.append(QueueView(view.key, view.name, view.query, count))
    return counted


def find_view(views: list[QueueView], key: str) -> QueueView | None:
    return next((v for v in views if v.key == key), None)


def _remember(session: SessionBase, key: str, value: object) -> None:
    # Assigning marks the session modified, which re-signs and UPDATEs its row at the end
    # of the request: an agent reloading the same queue changes nothing, so writes nothing.
    if session.get(key) != value:
        session[key] = value


def remember_view(session: SessionBase, *, view: str, q: str) -> None:
    _remember(session, LAST_VIEW_KEY, {"view": view, "q": q})


def last_view(session: SessionBase) -> tuple[str, str | None]:
    """The view key and filter text the agent had open last (the default view first)."""
    saved = session.get(LAST_VIEW_KEY)
    if isinstance(saved, dict) and isinstance(saved.get("view"), str):
        q = saved.get("q")
        return saved["view"], q if isinstance(q, str) else None
    return DEFAULT_VIEW, None


def remember_numbers(session: SessionBase, numbers: list[int], *, append: bool) -> None:
    previous = session.get(ON_SCREEN_KEY) if append else None
    merged = [*(previous if isinstance(previous, list) else []), *numbers]
    _remember(session, ON_SCREEN_KEY, merged[:ON_SCREEN_MAX])


def neighbours(session: SessionBase, number: int) -> tuple[int | None, int | None]:
    """The tickets before and after ``number`` in the list the agent last had on screen."""
    numbers = session.get(ON_SCREEN_KEY)
    if not isinstance(numbers, list) or number not in numbers:
        return None, None
    i = numbers.index(number)
    return (numbers[i - 1] if i > 0 else None), (numbers[i + 1] if i + 1 < len(numbers) else None)
