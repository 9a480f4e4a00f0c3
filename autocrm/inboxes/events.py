"""Event types the inboxes app emits: inbox settings, inbound mail, outbound delivery.

An imported email also appends the tickets app's own ``ticket.created`` or
``message.created``; ``email.received`` adds what only the email channel knows (the
threading rule that matched, the sender, the Message-ID)."""

INBOX_CREATED = "inbox.created"
INBOX_UPDATED = "inbox.updated"
EMAIL_RECEIVED = "email.received"  # imported as a new ticket or a message on one
EMAIL_IGNORED = "email.ignored"  # auto-reply, loop, bounce: stored, no ticket touched
EMAIL_QUEUED = "email.queued"  # an agent's public reply waits for the worker
EMAIL_SENT = "email.sent"
EMAIL_DEFERRED = "email.deferred"  # the SMTP server refused for now; retried with backoff
EMAIL_FAILED = "email.failed"  # given up: permanent refusal or too many attempts

EVENT_TYPES = (
    INBOX_CREATED,
    INBOX_UPDATED,
    EMAIL_RECEIVED,
    EMAIL_IGNORED,
    EMAIL_QUEUED,
    EMAIL_SENT,
    EMAIL_DEFERRED,
    EMAIL_FAILED,
)
