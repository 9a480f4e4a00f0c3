"""The ticket page's conversation and history as HTML, built with ``format_html`` (as the
queue's rows are, ``queue_rows``) instead of template loops.

A ticket page shows up to 50 messages and 50 history entries; in the template language each
message cost a dozen resolved variables, filters and an include, about a fifth of the page's
CPU. Here each message is one ``markup`` (``format_html``'s escaping, at a tenth of its
per-call overhead: ``autocrm.core.markup``), which escapes every value the same way.
Message bodies are the exception: ``body_html`` was sanitised with nh3 when it was stored
(``tickets.content``) and is printed as stored. Rows come as plain values (no model
instances), without the columns the page never shows (the plain-text body, email headers).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from autocrm.accounts.models import display_name
from autocrm.core.actors import Actor
from autocrm.core.markup import esc, markup, markup_join
from autocrm.core.models import Tenant
from autocrm.tickets import page_reads, pdf_preview, selectors
from autocrm.tickets.models import Ticket
from autocrm.workspace.templatetags.workspace_ui import ago, filesize, initials_of, stamp
from autocrm.workspace.timeline import TimelineEntry

# Shown inline as previews: raster images only, by the type sniffed from the bytes (SVG can
# carry script, so it is never among them).
PREVIEW_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# Shown as a picture of their first page (tickets.pdf_preview draws it), linked to the file.
PDF_TYPE = "application/pdf"

MESSAGE = (
    '<li><article class="message {kind}" aria-label="{label} from {speaker}">'
    '<header><span class="avatar">{initials}</span><strong>{author}</strong>{badge}{delivery}'
    '<time datetime="{iso}" title="{title} UTC">{ago}</time></header>'
    # body_html was sanitised with nh3 when it was stored (tickets.content)
    '<div class="message-body">{body}</div>{files}</article></li>\n'
)
FILES = '<ul class="files" aria-label="Attachments">{}</ul>'
FILE = '<li>{preview}<a href="{url}" download>{filename}</a> <span class="muted">{size}</span></li>'
PREVIEW = (
    '<a class="preview" href="{url}?preview=1" target="_blank" rel="noopener">'
    '<img src="{url}?preview=1" alt="Preview of {filename}" loading="lazy"></a>'
)
PDF_PREVIEW = (
    '<a class="preview preview-pdf" href="{url}" download>'
    '<img src="{url}?preview=1" alt="First page of {filename}" loading="lazy"></a>'
)
HISTORY = (  # actor, what they did, and when (ISO, title, age)
    '<li><span class="timeline-dot" aria-hidden="true"></span><span class="timeline-text">'
    '<strong>{}</strong> {}</span><time datetime="{}" title="{} UTC">{}</time></li>\n'
)
INTERNAL_BADGE = mark_safe('<span class="badge badge-warning">Internal note</span>')
CUSTOMER_BADGE = mark_safe('<span class="badge">Customer</span>')
NO_BADGE = mark_safe("")
# The email delivery of an agent's public reply (inboxes): state -> (badge style, words).
DELIVERY = {
    "queued": ("", "Email queued"),
    "sending": ("", "Email sending"),
    "sent": (" badge-success", "Email sent"),
    "deferred": (" badge-warning", "Email deferred — retrying"),
    "failed": (" badge-danger", "Email failed"),
    "bounced": (" badge-danger", "Email bounced"),
}
_COLUMNS = (
    "pk",
    "public",
    "author_user_id",
    "author_user__name",
    "author_user__email",
    "author_contact_id",
    "author_contact__name",
    "author_contact__email",
    "delivery_state",
    "created_at",
    "body_html",
)


@dataclass(frozen=True, slots=True)
class FileRow:
    pk: int
    message_id: int | None
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Conversation:
    html: SafeString  # the <li> of each message, oldest first
    count: int
    last_message_id: int
    ticket_files: list[FileRow]  # files on the ticket itself (no message)


def delivery_badge(state: str) -> SafeString:
    style, words = DELIVERY.get(state, ("", f"Email {state}"))
    return markup(
        '<span class="badge{}" data-testid="delivery-state" data-state="{}" '
        'title="Email delivery of this reply">{}</span>',
        style,
        state,
        words,
    )


_delivery_badge = functools.lru_cache(maxsize=32)(delivery_badge)  # a few states, one markup each


def attachment_base_url(tenant: Tenant) -> str:
    """``/<tenant>/agent/attachments/``: a file's address is this, its id and a slash."""
    return reverse("workspace:agent_attachment", args=[tenant.slug, 1]).removesuffix("1/")


def file_items(files: Iterable[FileRow], base_url: str, *, previews: bool) -> SafeString:
    """``<li>`` of each file: a download link, and for raster images and PDFs a preview."""
    items = []
    for f in files:
        url = f"{base_url}{f.pk}/"
        preview = ""
        if previews and f.content_type in PREVIEW_TYPES:
            preview = markup(PREVIEW, url=url, filename=f.filename)
        elif previews and f.content_type == PDF_TYPE and f.size <= pdf_preview.MAX_INPUT_BYTES:
            preview = markup(PDF_PREVIEW, url=url, filename=f.filename)
        items.append(
            markup(FILE, preview=preview, url=url, filename=f.filename, size=filesize(f.size))
        )
    return mark_safe("".join(items))  # noqa: S308 - each item is markup's output


def conversation(*, tenant: Tenant, actor: Actor, ticket: Ticket) -> Conversation:
    """The messages the actor may read (customers: public ones) with their files: two
    queries whatever the length."""
    files: dict[int | None, list[FileRow]] = defaultdict(list)
    file_rows: Iterable[tuple[Any, ...]]
    rows: Iterable[tuple[Any, ...]]
    if actor.is_staff:  # prepared statements (tickets.page_reads): every message and file
        file_rows = page_reads.file_rows(tenant, ticket)
        rows = page_reads.message_rows(tenant, ticket)
    else:
        file_rows = selectors.attachment_list(
            tenant=tenant, actor=actor, ticket=ticket
        ).values_list("pk", "message_id", "filename", "content_type", "size")
        rows = selectors.message_list(tenant=tenant, actor=actor, ticket=ticket).values_list(
            *_COLUMNS
        )
    for row in file_rows:
        files[row[1]].append(FileRow(*row))
    base_url = attachment_base_url(tenant)
    items, last = [], 0
    for (
        pk,
        public,
        user_id,
        user_name,
        user_email,
        contact_id,
        contact_name,
        contact_email,
        delivery_state,
        created_at,
        body_html,
    ) in rows:
        last = max(last, pk)
        if user_id is not None:
            author = display_name(user_name, user_email)
            initials = initials_of(user_name, user_email)
        elif contact_id is not None:
            author = contact_name or contact_email
            initials = initials_of(contact_name, contact_email)
        else:
            author, initials = "", "?"
        if not public:
            kind, badge = "message-note", INTERNAL_BADGE
        elif contact_id is not None:
            kind, badge = "message-customer", CUSTOMER_BADGE
        else:
            kind, badge = "message-agent", NO_BADGE
        attached = files.get(pk)
        # Only the names come from people: the other values are this module's constants,
        # numbers and dates, with nothing to escape (a message is the page's hottest loop).
        shown = esc(author)
        items.append(
            MESSAGE.format(
                kind=kind,
                label="Public message" if public else "Internal note",
                speaker=shown or "unknown",
                initials=esc(initials),
                author=shown or "Unknown",
                badge=badge,
                delivery=_delivery_badge(delivery_state) if delivery_state else "",
                iso=created_at.isoformat(),
                title=stamp(created_at),
                ago=ago(created_at),
                body=body_html,  # sanitised with nh3 when stored
                files=FILES.format(file_items(attached, base_url, previews=True))
                if attached
                else "",
            )
        )
    return Conversation(
        html=mark_safe("".join(items)),  # noqa: S308 - each item escaped as it was built
        count=len(items),
        last_message_id=last,
        ticket_files=files.get(None, []),
    )


def history_items(entries: Iterable[TimelineEntry]) -> SafeString:
    """The ``<li>`` of each history entry (the ticket's audit timeline in words)."""
    return markup_join(
        "",
        HISTORY,
        (
            (e.actor, e.text, e.created_at.isoformat(), stamp(e.created_at), ago(e.created_at))
            for e in entries
        ),
    )
