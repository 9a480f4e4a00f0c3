"""Tickets and everything attached to them.

Index notes (each justified by an EXPLAIN in docs/tickets-performance.md): every composite
index starts with tenant_id; the agent queue reads (tenant, status, team, priority DESC,
updated_at DESC, id DESC) in index order; full-text search uses one GIN index on the
weighted ``search_vector``; partial words and typos use a trigram GIN index on subject.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models.functions import Lower

from autocrm.core.models import Tenant, TenantOwned


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


class Priority(models.IntegerChoices):
    """Stored as a rank so that sorting by priority is an index scan."""

    LOW = 0, "low"
    NORMAL = 1, "normal"
    HIGH = 2, "high"
    URGENT = 3, "urgent"


PRIORITY_BY_NAME = {label: value for value, label in Priority.choices}


class TicketType(models.TextChoices):
    QUESTION = "question", "Question"
    INCIDENT = "incident", "Incident"
    PROBLEM = "problem", "Problem"
    TASK = "task", "Task"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"
    WEB = "web", "Web form"
    PORTAL = "portal", "Portal"
    SMS = "sms", "SMS"
    API = "api", "API"
    PHONE = "phone", "Phone"
    INTERNAL = "internal", "Internal"


class TicketNumberField(models.BigIntegerField):
    """The per-tenant ticket number. Services insert it as
    ``autocrm_ticket_number_next(tenant_id)`` (a PostgreSQL sequence per tenant, see
    migration 0005) and read the value back from the INSERT's RETURNING clause."""

    db_returning = True


class Ticket(TenantOwned):
    # Not a column: the id of the message ticket_create inserted with the ticket (callers
    # that go on with that message need no second lookup).
    first_message_id: int | None = None
    # Every index below starts with tenant_id, so Django's own index on it is redundant
    # (one index less to maintain per insert).
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    number = TicketNumberField()
    subject = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    type = models.CharField(max_length=10, choices=TicketType.choices, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.API)
    requester = models.ForeignKey("crm.Contact", on_delete=models.PROTECT, related_name="tickets")
    organization = models.ForeignKey(
        "crm.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "routing.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)  # bumped on every change; the ETag
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    # Maintained by the services: subject (weight A) + message text (weight B).
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="tickets_ticket_number_once"),
        ]
        indexes = [
            models.Index(
                "tenant",
                "status",
                "team",
                models.F("priority").desc(),
                models.F("updated_at").desc(),
                models.F("id").desc(),
                name="tickets_ticket_queue",
            ),
            # Lists sorted by priority (the default sort without search text) that do not
            # filter by team: all tickets, and every team's open tickets at once
            # (``GET /api/v1/tickets?status=open``). Without them each page top-N sorts all
            # of the tenant's (open) tickets.
            models.Index(
                "tenant",
                models.F("priority").desc(),
                models.F("updated_at").desc(),
                models.F("id").desc(),
                name="tickets_ticket_prio",
            ),
            models.Index(
                "tenant",
                "status",
                models.F("priority").desc(),
                models.F("updated_at").desc(),
                models.F("id").desc(),
                name="tickets_ticket_status_prio",
            ),
            models.Index(
                "tenant",
                "status",
                models.F("updated_at").desc(),
                models.F("id").desc(),
                name="tickets_ticket_status_upd",
            ),
            models.Index(
                "tenant",
                models.F("updated_at").desc(),
                models.F("id").desc(),
                name="tickets_ticket_updated",
            ),
            # "My open tickets" (assignee:me status:open, default sort) as one ordered range.
            models.Index(
                "tenant",
                "assignee",
                "status",
                models.F("priority").desc(),
                models.F("updated_at").desc(),
                models.F("id").desc(),
                name="tickets_ticket_assignee_queue",
            ),
            # A requester's tickets, newest first (the ticket page's "other tickets", a
            # customer's requests) as one ordered range: a busy requester has thousands.
            models.Index(
                "tenant",
                "requester",
                models.F("updated_at").desc(),
                models.F("id").desc(),
                name="tickets_ticket_requester_upd",
            ),
            models.Index("tenant", "organization", name="tickets_ticket_org"),
            GinIndex(fields=["search_vector"], name="tickets_ticket_fts"),
            GinIndex(fields=["tags"], name="tickets_ticket_tags"),
            GinIndex(
                fields=["custom_fields"], name="tickets_ticket_cf", opclasses=["jsonb_path_ops"]
            ),
            GinIndex(
                fields=["subject"], name="tickets_ticket_subject_trgm", opclasses=["gin_trgm_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def priority_name(self) -> str:
        return Priority(self.priority).label

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED


class Message(TenantOwned):
    """A public reply or an internal note. Body HTML is sanitized before it is stored."""

    # (tenant, ticket, created_at) serves every tenant_id lookup; see Ticket.tenant.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    public = models.BooleanField(default=True)
    body_html = models.TextField()
    body_text = models.TextField()
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.API)
    channel_message_id = models.CharField(max_length=500, blank=True)
    # Email headers (the email channel, autocrm.inboxes): threading matches a reply's
    # In-Reply-To/References against these; our own replies get our Message-ID here.
    # (Database defaults: the ticket insert statement in services/tickets.py names no
    # email column.)
    email_message_id = models.CharField(max_length=998, blank=True, db_default="")
    email_in_reply_to = models.CharField(max_length=998, blank=True, db_default="")
    email_references = models.TextField(blank=True, db_default="")
    # Outbound email of a public reply: "" (not emailed), queued, sending, sent, deferred,
    # failed; kept by the inboxes app's send job.
    delivery_state = models.CharField(max_length=10, blank=True, db_default="")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "ticket", "created_at"], name="tickets_message_ticket"),
            models.Index(
                fields=["tenant", "email_message_id"],
                condition=~models.Q(email_message_id=""),
                name="tickets_message_email_id",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel_message_id"],
                condition=~models.Q(channel_message_id=""),
                name="tickets_message_channel_id_once",
            ),
        ]

    @property
    def is_internal(self) -> bool:
        return not self.public


class Attachment(TenantOwned):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Uploaded ahead of its message (an image pasted into the composer): hidden from
    # customers until a message claims it, so an unsent internal note's image never shows.
    pending = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "ticket"], name="tickets_attachment_ticket")]


class Collaborator(TenantOwned):
    """A contact copied on a ticket (an email's Cc): receives its public replies."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="collaborators")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "contact"], name="tickets_collaborator_once")
        ]
        indexes = [models.Index(fields=["tenant", "ticket"], name="tickets_collaborator_ticket")]


class SubjectWord(TenantOwned):
    """A word of some ticket subject of the tenant (lowercase letters, 3-40 of them): what
    typo-tolerant search compares the query's words with, through a trigram index on a few
    thousand words instead of a million subjects (ADR 0007). Kept by triggers on
    tickets_ticket (tickets migration 0011); a word stays when its tickets change."""

    word = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "word"], name="tickets_subjectword_once")
        ]
        indexes = [
            GinIndex(fields=["word"], name="tickets_subjectword_trgm", opclasses=["gin_trgm_ops"])
        ]


class Tag(TenantOwned):
    """A known tag (tickets store tag names in ``Ticket.tags`` for fast filtering)."""

    name = models.CharField(max_length=50)
    color = models.CharField(max_length=7, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Lowercase (checked), unique by plain equality so the index works under RLS.
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="tickets_tag_once"),
            models.CheckConstraint(
                condition=models.Q(name=Lower("name")), name="tickets_tag_lowercase"
            ),
        ]


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    DROPDOWN = "dropdown", "Dropdown"
    MULTI_SELECT = "multi_select", "Multi-select"
    CHECKBOX = "checkbox", "Checkbox"


class CustomField(TenantOwned):
    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=20, choices=FieldType.choices)
    options = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="tickets_customfield_key_once")
        ]
        ordering = ["position", "id"]


class TicketView(TenantOwned):
    """A saved filter: ``query`` in the agent search syntax; personal when ``owner`` is set."""

    name = models.CharField(max_length=100)
    query = models.CharField(max_length=1000, blank=True)
    sort = models.CharField(max_length=50, default="-updated_at")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "owner"], name="tickets_view_owner")]
        ordering = ["position", "id"]


class Macro(TenantOwned):
    """Named actions (``[{"field": "status", "value": "pending"}, ...]``) plus an optional
    reply with placeholders such as ``{{ticket.number}}`` and ``{{requester.name}}``."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    actions = models.JSONField(default=list, blank=True)
    reply_body = models.TextField(blank=True)
    reply_public = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "active"], name="tickets_macro_active")]
