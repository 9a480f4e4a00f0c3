"""Event types the inboxes app emits: inbox settings, inbound mail, outbound delivery.

An imported email also appends the tickets app's own ``ticket.created`` or
``message.created``; ``email.received`` adds what only the email channel knows (the
threading rule that matched, the sender, the Message-ID)."""

INBOX_CREATED = "inbox.created"
INBOX_UPDATED = "inbox.updated"
INBOX_FETCH_FAILED = "inbox.fetch_failed"  # the IMAP server refused (the inbox shows why)
INBOX_FETCH_RECOVERED = "inbox.fetch_recovered"  # fetching works again
EMAIL_RECEIVED = "email.received"  # imported as a new ticket or a message on one
EMAIL_IGNORED = "email.ignored"  # auto-reply, loop, bounce: stored, no ticket touched
EMAIL_REJECTED = "email.rejected"  # not importable (too big, no sender): left on the server
EMAIL_QUEUED = "email.queued"  # an agent's reply or a notification waits for the worker
# A "ticket received" / "ticket solved" mail held back (a no-reply or bounced address, a
# mailing list, the per-address limit): autocrm.inboxes.notifications.
EMAIL_NOTIFICATION_SUPPRESSED = "email.notification_suppressed"
EMAIL_SENT = "email.sent"
EMAIL_DEFERRED = "email.deferred"  # the SMTP server refused for now; retried with backoff
EMAIL_FAILED = "email.failed"  # given up: permanent refusal or too many attempts
ADDRESS_BOUNCED = "email.address_bounced"  # a DSN said an address does not take mail
EMAIL_BOUNCED = "email.bounced"  # sent, then a delivery report (DSN) said it was not delivered
# A tenant's customer e-mail wording (autocrm.inboxes.notification_templates).
NOTIFICATION_TEMPLATE_UPDATED = "notification_template.updated"
NOTIFICATION_TEMPLATE_RESET = "notification_template.reset"  # back to the built-in default

EVENT_TYPES = (
    INBOX_CREATED,
    INBOX_UPDATED,
    INBOX_FETCH_FAILED,
    INBOX_FETCH_RECOVERED,
    EMAIL_RECEIVED,
    EMAIL_IGNORED,
    EMAIL_REJECTED,
    EMAIL_QUEUED,
    EMAIL_NOTIFICATION_SUPPRESSED,
    EMAIL_SENT,
    EMAIL_DEFERRED,
    EMAIL_FAILED,
    EMAIL_BOUNCED,
    ADDRESS_BOUNCED,
    NOTIFICATION_TEMPLATE_UPDATED,
    NOTIFICATION_TEMPLATE_RESET,
)
