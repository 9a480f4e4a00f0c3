"""Which ticket an inbound email continues, in the order of confidence:

1. ``in_reply_to`` / ``references``: a Message-ID the mail answers is one of a ticket's
   messages (ours, sent as a reply, or the customer's, imported earlier) or one of the
   ticket's notifications (the "ticket received" mail someone answers);
2. ``subject_token``: ``[#1234]`` in the subject names ticket 1234;
3. ``plus_address``: the mail went to ``support+1234@…`` (an inbox address with a tag);
4. otherwise a new ticket.

The weaker rules (2 and 3) are something anyone can type, so they only apply when the
sender is on the ticket already (its requester or a collaborator); a stranger quoting a
ticket number gets a ticket of their own. A merged ticket's mail goes to the ticket it was
merged into; a closed ticket is never re-opened by mail: the reply starts a follow-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autocrm.core.models import Tenant
from autocrm.inboxes.models import Inbox
from autocrm.inboxes.parsing import ParsedEmail
from autocrm.tickets.models import Collaborator, Ticket

_SUBJECT_TOKEN = re.compile(r"\[#(\d{1,12})\]")
IN_REPLY_TO = "in_reply_to"
REFERENCES = "references"
SUBJECT_TOKEN = "subject_token"
PLUS_ADDRESS = "plus_address"
NEW = "new"


@dataclass(frozen=True)
class Thread:
    rule: str
    ticket: Ticket | None  # None: a new ticket (rule NEW, or a follow-up of a closed one)
    follow_up_of: Ticket | None = None


# The nearest Message-ID the mail answers that we know, and its ticket, in one statement: a
# reply's Message-ID is on its message, a notification's only on its outbound row. The
# "<> ''" lets PostgreSQL use the partial index on messages' Message-IDs.
_BY_MESSAGE_IDS_SQL = """
SELECT ticket.*, wanted.email_id AS answered_message_id
FROM unnest(%s::text[]) WITH ORDINALITY AS wanted(email_id, n)
JOIN LATERAL (
    SELECT message.ticket_id FROM tickets_message AS message
    WHERE message.tenant_id = %s AND message.email_message_id = wanted.email_id
      AND message.email_message_id <> ''
    UNION ALL
    SELECT outbound.ticket_id FROM inboxes_outboundemail AS outbound
    WHERE outbound.tenant_id = %s AND outbound.rfc_message_id = wanted.email_id
      AND outbound.message_id IS NULL
    LIMIT 1
) AS hit ON true
JOIN tickets_ticket AS ticket ON ticket.tenant_id = %s AND ticket.id = hit.ticket_id
ORDER BY wanted.n DESC
LIMIT 1
"""


def _by_message_ids(tenant: Tenant, ids: list[str]) -> tuple[Ticket, str] | None:
    """The ticket of the nearest Message-ID the mail answers (``ids`` oldest first: the
    In-Reply-To last, so looked at first) and that Message-ID."""
    if not ids:
        return None
    params = [ids, tenant.pk, tenant.pk, tenant.pk]
    for ticket in Ticket.objects.raw(_BY_MESSAGE_IDS_SQL, params):
        return ticket, str(getattr(ticket, "answered_message_id"))  # noqa: B009 - a raw column
    return None


def _plus_tag(inbox: Inbox, addresses: list[str]) -> int | None:
    own = inbox.addresses
    for address in addresses:
        local, _, domain = address.partition("@")
        base, plus, tag = local.partition("+")
        if plus and tag.isdigit() and len(tag) <= 12 and f"{base}@{domain}" in own:
            return int(tag)
    return None


def _on_ticket(ticket: Ticket, sender: str) -> bool:
    if ticket.requester.email == sender:
        return True
    return Collaborator.objects.filter(
        tenant_id=ticket.tenant_id, ticket=ticket, contact__email=sender
    ).exists()


def _resolve(ticket: Ticket, rule: str) -> Thread:
    seen = 0
    while ticket.merged_into_id is not None and seen < 10:  # follow merges, never loop
        target = Ticket.objects.filter(tenant_id=ticket.tenant_id, pk=ticket.merged_into_id).first()
        if target is None:
            break
        ticket, seen = target, seen + 1
    if ticket.is_closed:
        return Thread(rule=rule, ticket=None, follow_up_of=ticket)
    return Thread(rule=rule, ticket=ticket)


def thread_find(*, tenant: Tenant, inbox: Inbox, parsed: ParsedEmail) -> Thread:
    # References are oldest first; the In-Reply-To goes last, so it is looked at first.
    found = _by_message_ids(tenant, [*parsed.references, *parsed.in_reply_to])
    if found is not None:
        answered, message_id = found
        return _resolve(answered, IN_REPLY_TO if message_id in parsed.in_reply_to else REFERENCES)
    candidates: list[tuple[str, int]] = []
    token = _SUBJECT_TOKEN.search(parsed.subject)
    if token:
        candidates.append((SUBJECT_TOKEN, int(token.group(1))))
    plus = _plus_tag(inbox, parsed.delivered_to)
    if plus is not None:
        candidates.append((PLUS_ADDRESS, plus))
    for rule, number in candidates:
        ticket = (
            Ticket.objects.select_related("requester").filter(tenant=tenant, number=number).first()
        )
        if ticket is not None and _on_ticket(ticket, parsed.sender_email):
            return _resolve(ticket, rule)
    return Thread(rule=NEW, ticket=None)
