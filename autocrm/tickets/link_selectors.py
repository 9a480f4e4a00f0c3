"""Reads of how tickets relate: merged into / from and split into / from.

Merge and split record both ends in the events spine (``ticket.merged``,
``ticket.merged_into``, ``ticket.split``, and ``ticket.created`` with ``split_from``), so the
links of one ticket are one indexed read of its own events, whichever side it was on."""

from __future__ import annotations

from dataclasses import dataclass, field

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.tickets import access, events, page_reads
from autocrm.tickets.models import Ticket
from autocrm.tickets.selectors import ticket_subjects

LINK_EVENT_TYPES = (
    events.TICKET_MERGED,
    events.TICKET_MERGED_INTO,
    events.TICKET_SPLIT,
    events.TICKET_CREATED,
)


@dataclass(frozen=True)
class LinkedTicket:
    number: int
    subject: str | None  # None: the actor may not see that ticket (shown by number only)


@dataclass
class TicketLinks:
    merged_into: LinkedTicket | None = None
    merged_from: list[LinkedTicket] = field(default_factory=list)
    split_from: LinkedTicket | None = None
    split_into: list[LinkedTicket] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.merged_into or self.merged_from or self.split_from or self.split_into)


def ticket_links(*, tenant: Tenant, actor: Actor, ticket: Ticket) -> TicketLinks:
    """The tickets this one was merged or split with (staff only; two queries at most)."""
    if not access.can_see_internal(actor):
        return TicketLinks()
    found: dict[str, list[int]] = {"into": [], "from": [], "split_from": [], "split_into": []}
    for type_, payload in page_reads.link_events(tenant, ticket, LINK_EVENT_TYPES):
        if type_ == events.TICKET_MERGED:
            found["into"].append(payload["into"]["number"])
        elif type_ == events.TICKET_MERGED_INTO:
            found["from"].append(payload["from"]["number"])
        elif type_ == events.TICKET_SPLIT:
            found["split_into"].append(payload["into"]["number"])
        elif type_ == events.TICKET_CREATED and payload.get("split_from"):
            found["split_from"].append(payload["split_from"]["number"])
    numbers = {n for ns in found.values() for n in ns}
    subjects = ticket_subjects(tenant=tenant, actor=actor, numbers=numbers)

    def linked(number: int) -> LinkedTicket:
        return LinkedTicket(number, subjects.get(number))

    return TicketLinks(
        merged_into=linked(found["into"][-1]) if found["into"] else None,
        merged_from=[linked(n) for n in dict.fromkeys(found["from"])],
        split_from=linked(found["split_from"][0]) if found["split_from"] else None,
        split_into=[linked(n) for n in dict.fromkeys(found["split_into"])],
    )
