"""Email inboxes, the mail they received, and the replies they send.

An inbox is an address (plus aliases) of a tenant. Every inbound message leaves one
``InboundEmail`` row, unique per inbox by its Message-ID (or a content hash when it has
none): that row is what makes a second import of the same mail a no-op. Every agent reply
to an email ticket, and every customer notification (ticket received, ticket solved), gets
one ``OutboundEmail`` row, the claim that makes a retried send job never send twice.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from autocrm.core.models import TenantOwned


class ImapSecurity(models.TextChoices):
    SSL = "ssl", "SSL/TLS"
    STARTTLS = "starttls", "STARTTLS"
    NONE = "none", "None (plain text)"


class ImapProcessed(models.TextChoices):
    # A flag is a keyword only AutoCRM reads: people using the mailbox keep \Seen for
    # themselves, and a mail someone else read first is still imported.
    FLAG = "flag", "Flag it (keyword $AutoCRMImported)"
    MOVE = "move", "Move it to a folder"


class EspProvider(models.TextChoices):
    MAILGUN = "mailgun", "Mailgun"
    SENDGRID = "sendgrid", "SendGrid"
    POSTMARK = "postmark", "Postmark"
    SES = "ses", "Amazon SES"


class Inbox(TenantOwned):
    name = models.CharField(max_length=100)
    address = models.EmailField(max_length=254)  # stored lowercase; the From of replies
    aliases = ArrayField(models.EmailField(max_length=254), default=list, blank=True)
    default_team = models.ForeignKey(
        "routing.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signature = models.TextField(blank=True)  # plain text, appended to every reply
    # Inbound settings: mail is imported at all, and mail from an unknown sender becomes a
    # contact and a ticket (off: only known contacts can open tickets by email).
    inbound_enabled = models.BooleanField(default=True)
    create_contacts = models.BooleanField(default=True)
    # IMAP polling (autocrm/inboxes/imap.py). The password is a Fernet token
    # (autocrm/inboxes/secrets.py), never the plain text.
    imap_enabled = models.BooleanField(default=False)
    imap_host = models.CharField(max_length=253, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(
        max_length=10, choices=ImapSecurity.choices, default=ImapSecurity.SSL
    )
    imap_username = models.CharField(max_length=254, blank=True)
    imap_password = models.TextField(blank=True)
    imap_folder = models.CharField(max_length=200, default="INBOX")
    imap_processed = models.CharField(
        max_length=10, choices=ImapProcessed.choices, default=ImapProcessed.FLAG
    )
    imap_processed_folder = models.CharField(max_length=200, default="Processed")
    # Inbound webhook of an email service provider (autocrm/inboxes/esp.py): posted to
    # /email/inbound/<provider>/<token>/; the secret (encrypted like the IMAP password) is
    # what checks the provider's signature or basic auth.
    esp_provider = models.CharField(max_length=10, choices=EspProvider.choices, blank=True)
    esp_token = models.CharField(max_length=64, blank=True)
    esp_secret = models.TextField(blank=True)
    # What the last fetch did: shown on the inbox, so a stopped import is never silent.
    imap_last_fetched_at = models.DateTimeField(null=True, blank=True)
    imap_last_error = models.CharField(max_length=1000, blank=True)
    imap_last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "address"], name="inboxes_inbox_address_once"
            ),
            # A webhook URL names one inbox of one tenant.
            models.UniqueConstraint(
                fields=["esp_token"],
                condition=~models.Q(esp_token=""),
                name="inboxes_inbox_esp_token_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def esp_webhook_path(self) -> str:
        """Where the provider posts received mail ("" without a provider)."""
        if not (self.esp_provider and self.esp_token):
            return ""
        return f"/email/inbound/{self.esp_provider}/{self.esp_token}/"

    @property
    def esp_secret_set(self) -> bool:
        return bool(self.esp_secret)

    @property
    def imap_password_set(self) -> bool:
        return bool(self.imap_password)

    @property
    def addresses(self) -> set[str]:
        return {self.address.lower(), *(a.lower() for a in self.aliases)}


class InboundOutcome(models.TextChoices):
    CREATED = "created", "New ticket"
    THREADED = "threaded", "Added to a ticket"
    IGNORED = "ignored", "Ignored"


class InboundEmail(TenantOwned):
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="inbound")
    # sha256 of the Message-ID, or of the raw bytes when there is none: fixed length, so
    # any Message-ID (up to 998 characters) dedupes through one small unique index.
    dedupe_key = models.CharField(max_length=64)
    rfc_message_id = models.CharField(max_length=998, blank=True)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=10, choices=InboundOutcome.choices)
    # Why: the threading rule that matched (in_reply_to, references, subject_token,
    # plus_address, new) or why the mail was ignored (auto_reply, loop, bounce, ...).
    reason = models.CharField(max_length=40)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raw = models.FileField(upload_to="email/%Y/%m/", max_length=200)
    size = models.PositiveIntegerField()
    # The whole original (quoted history and signature included; sanitised HTML), while
    # the ticket message holds only the new text.
    text_full = models.TextField(blank=True)
    html_full = models.TextField(blank=True)
    received_at = models.DateTimeField()
    # Why no automatic answer (the "ticket received" mail) may go to this mail's sender:
    # a mailing list, a null return path, a no-reply address (RFC 3834); "" when one may.
    no_auto_reply = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "inbox", "dedupe_key"], name="inboxes_inbound_once"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "ticket"], name="inboxes_inbound_ticket"),
            # The per-sender rate limit counts one sender's last hour.
            models.Index(
                fields=["tenant", "inbox", "sender", "received_at"], name="inboxes_inbound_sender"
            ),
        ]


class DeliveryState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DEFERRED = "deferred", "Deferred"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"  # accepted, then a delivery report (DSN) came back


class OutboundKind(models.TextChoices):
    REPLY = "reply", "Agent reply"
    TICKET_RECEIVED = "ticket_received", "Ticket received"
    TICKET_SOLVED = "ticket_solved", "Ticket solved"
    # The rating request of a solved ticket; its body comes from autocrm.portal (see
    # autocrm.inboxes.outbound.mail_body_register).
    CSAT_SURVEY = "csat_survey", "Satisfaction survey"


class OutboundEmail(TenantOwned):
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="outbound")
    kind = models.CharField(max_length=20, choices=OutboundKind.choices, default="reply")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    # The agent's reply this mail carries; None for a notification (received, solved).
    message = models.OneToOneField(
        "tickets.Message",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbound_email",
    )
    # A notification's "<kind>:<ticket>:<event>": the same event handled twice (a retried
    # job, a duplicated event) meets the unique constraint instead of mailing twice.
    idempotency_key = models.CharField(max_length=100, blank=True)
    rfc_message_id = models.CharField(max_length=998)
    recipients = ArrayField(models.EmailField(max_length=254))
    cc = ArrayField(models.EmailField(max_length=254), default=list, blank=True)
    state = models.CharField(max_length=10, choices=DeliveryState.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=1000, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="inboxes_outbound_key_once",
            ),
            # A reply mail is its message's; only notifications stand alone.
            models.CheckConstraint(
                condition=~models.Q(kind="reply") | models.Q(message__isnull=False),
                name="inboxes_outbound_reply_has_message",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "rfc_message_id"], name="inboxes_outbound_msgid"),
            models.Index(fields=["state", "next_attempt_at"], name="inboxes_outbound_due"),
            models.Index(fields=["tenant", "ticket"], name="inboxes_outbound_ticket"),
            # The per-address limit of automatic answers counts one kind's last hour.
            models.Index(fields=["tenant", "kind", "created_at"], name="inboxes_outbound_kind"),
        ]


class AddressBounce(TenantOwned):
    """An address mail to which came back for good (a DSN with a 5.x.x status): marked so
    agents see it and the next reply's failure is no surprise."""

    email = models.EmailField(max_length=254)  # lowercase
    status = models.CharField(max_length=500, blank=True)  # the DSN's Status and Diagnostic
    bounces = models.PositiveIntegerField(default=1)
    last_bounced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "email"], name="inboxes_bounce_once")
        ]


class NotificationTemplate(TenantOwned):
    """A tenant's own wording of one customer e-mail in one language; without a row the
    built-in default is used (autocrm.inboxes.notification_templates)."""

    kind = models.CharField(max_length=30)
    locale = models.CharField(max_length=10)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "locale"], name="inboxes_template_once"
            )
        ]
