"""Event types the notifications app emits (all about webhook subscriptions).

Delivery attempts deliberately emit no event: each event is delivered to every matching
subscription, so an event per attempt would feed the webhooks back into themselves.
"""

WEBHOOK_CREATED = "webhook.created"
WEBHOOK_UPDATED = "webhook.updated"
WEBHOOK_DELETED = "webhook.deleted"
WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"
WEBHOOK_REDELIVERY_REQUESTED = "webhook.redelivery_requested"
WEBHOOK_DISABLED = "webhook.disabled"

EVENT_TYPES: tuple[str, ...] = (
    WEBHOOK_CREATED,
    WEBHOOK_UPDATED,
    WEBHOOK_DELETED,
    WEBHOOK_SECRET_ROTATED,
    WEBHOOK_REDELIVERY_REQUESTED,
    WEBHOOK_DISABLED,
)

# In-app notifications (autocrm.notifications.inapp): created (pushed live to its member by
# the realtime handler), read, and a member's preferences changed.
NOTIFICATION_CREATED = "notification.created"
NOTIFICATION_READ = "notification.read"
NOTIFICATION_PREFERENCES_UPDATED = "notification.preferences_updated"

EVENT_TYPES = (
    *EVENT_TYPES,
    NOTIFICATION_CREATED,
    NOTIFICATION_READ,
    NOTIFICATION_PREFERENCES_UPDATED,
)
