"""Merging two tickets into one, and splitting messages off into a new ticket."""

from __future__ import annotations

import datetime as dt
import html

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.tickets import access, events
from autocrm.tickets.models import Attachment, Channel, Message, Status, Ticket
from autocrm.tickets.search import search_vector_rebuild
from autocrm.tickets.services.changes import (
    changes_apply,
    ticket_ensure_open,
    ticket_locked,
    ticket_number_next,
)


def _system_note(
    *, tenant: Tenant, ticket: Ticket, actor: Actor, text: str, now: dt.datetime
) -> Message:
    """An internal note that records what an action did (merge, split) in the conversation."""
    return Message.objects.create(
        tenant=tenant,
        ticket=ticket,
        public=False,
        author_user=actor.user,
        body_html=f"<p>{html.escape(text)}</p>",
        body_text=text,
        channel=Channel.INTERNAL,
        created_at=now,
    )


@transaction.atomic
def ticket_merge(*, tenant: Tenant, actor: Actor, source_id: int, target_id: int) -> Ticket:
    """Move the source's conversation into the target and close the source."""
    access.require_edit(actor)
    if source_id == target_id:
        raise ValidationError({"source_id": "A ticket cannot be merged into itself."})
    first, second = sorted([source_id, target_id])  # lock in id order: no deadlocks
    locked = {
        t.pk: t
        for t in (
            ticket_locked(tenant=tenant, actor=actor, ticket_id=first),
            ticket_locked(tenant=tenant, actor=actor, ticket_id=second),
        )
    }
    source, target = locked[source_id], locked[target_id]
    ticket_ensure_open(source)
    ticket_ensure_open(target)
    moved = Message.objects.filter(tenant=tenant, ticket=source).update(ticket=target)
    Attachment.objects.filter(tenant=tenant, ticket=source).update(ticket=target)
    now = timezone.now()
    _system_note(
        tenant=tenant,
        ticket=target,
        actor=actor,
        text=f"Ticket #{source.number} was merged into this ticket.",
        now=now,
    )
    _system_note(
        tenant=tenant,
        ticket=source,
        actor=actor,
        text=f"Merged into ticket #{target.number}.",
        now=now,
    )
    target_diff = changes_apply(
        tenant=tenant,
        ticket=target,
        now=now,
        changes={"tags": list(dict.fromkeys([*target.tags, *source.tags]))},
    )
    source.merged_into = target
    source_diff = changes_apply(
        tenant=tenant, ticket=source, now=now, changes={"status": Status.CLOSED}
    )
    target.updated_at = source.updated_at = now
    target.version += 1
    source.version += 1
    target.save()
    source.save()
    search_vector_rebuild(tenant, target)
    search_vector_rebuild(tenant, source)
    event_append(
        tenant=tenant,
        type=events.TICKET_MERGED,
        subject=source,
        actor=actor,
        payload={
            "number": source.number,
            "into": {"id": target.pk, "number": target.number},
            "changes": source_diff,
            "messages_moved": moved,
        },
    )
    event_append(
        tenant=tenant,
        type=events.TICKET_MERGED_INTO,
        subject=target,
        actor=actor,
        payload={
            "number": target.number,
            "from": {"id": source.pk, "number": source.number},
            "changes": target_diff,
            "messages_moved": moved,
        },
    )
    return target


@transaction.atomic
def ticket_split(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket_id: int,
    message_ids: list[int],
    subject: str | None = None,
) -> Ticket:
    """Move some messages of a ticket into a new ticket with the same requester."""
    access.require_edit(actor)
    original = ticket_locked(tenant=tenant, actor=actor, ticket_id=ticket_id)
    ticket_ensure_open(original)
    ids = set(message_ids)
    messages = list(Message.objects.filter(tenant=tenant, ticket=original, pk__in=ids))
    if not ids or len(messages) != len(ids):
        raise ValidationError({"message_ids": "Give messages of this ticket."})
    remaining = Message.objects.filter(tenant=tenant, ticket=original, public=True)
    if not remaining.exclude(pk__in=ids).exists():
        raise ValidationError({"message_ids": "At least one public message must stay."})
    now = timezone.now()
    new_subject = (subject or f"Split from #{original.number}: {original.subject}")[:500]
    new = Ticket.objects.create(
        tenant=tenant,
        number=ticket_number_next(tenant),
        subject=new_subject,
        status=Status.OPEN,
        priority=original.priority,
        type=original.type,
        channel=original.channel,
        requester=original.requester,
        organization=original.organization,
        assignee=original.assignee,
        team=original.team,
        tags=list(original.tags),
        custom_fields=dict(original.custom_fields),
        created_at=now,
        updated_at=now,
    )
    Message.objects.filter(pk__in=ids).update(ticket=new)
    Attachment.objects.filter(tenant=tenant, message_id__in=ids).update(ticket=new)
    _system_note(
        tenant=tenant,
        ticket=original,
        actor=actor,
        text=f"{len(ids)} message(s) moved to ticket #{new.number}.",
        now=now,
    )
    original.updated_at = now
    original.version += 1
    original.save()
    search_vector_rebuild(tenant, original)
    search_vector_rebuild(tenant, new)
    event_append(
        tenant=tenant,
        type=events.TICKET_CREATED,
        subject=new,
        actor=actor,
        payload={
            "number": new.number,
            "subject": new.subject,
            "status": new.status,
            "split_from": {"id": original.pk, "number": original.number},
        },
    )
    event_append(
        tenant=tenant,
        type=events.TICKET_SPLIT,
        subject=original,
        actor=actor,
        payload={
            "number": original.number,
            "message_ids": sorted(ids),
            "into": {"id": new.pk, "number": new.number},
        },
    )
    return new


# --- macros -------------------------------------------------------------------------------


@transaction.atomic
def tickets_merge_bulk(
    *, tenant: Tenant, actor: Actor, source_ids: list[int], target_id: int
) -> Ticket:
    """Merge several tickets into one, all or nothing (the target may be among the selected:
    it is skipped). Each source gets its own merge events, as if merged one by one."""
    sources = [i for i in dict.fromkeys(source_ids) if i != target_id]
    if not sources:
        raise ValidationError({"source_ids": "Select at least one other ticket to merge."})
    if len(sources) > 100:
        raise ValidationError({"source_ids": "Merge at most 100 tickets at once."})
    target = None
    for source_id in sources:
        target = ticket_merge(tenant=tenant, actor=actor, source_id=source_id, target_id=target_id)
    assert target is not None
    return target
