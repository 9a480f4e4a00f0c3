"""Every write of outbound webhooks, by concept: ``subscriptions`` (admin actions and the
automatic switch-off), ``delivery`` (fan-out, attempts, redelivery) and ``payloads`` (the
document and the signed headers sent). The writes are re-exported here, so callers say
``services.webhook_subscription_create``.

No delivery or attempt appends an event (each event is delivered to every matching
subscription, so that would feed the webhooks back into themselves); only
``webhook.disabled`` when a subscription is switched off for persistent failure.
"""

from autocrm.notifications.services.delivery import (
    MAX_ATTEMPTS,
    retry_delay,
    webhook_deliveries_create_for_event,
    webhook_delivery_attempt,
    webhook_redeliver,
)
from autocrm.notifications.services.payloads import webhook_body, webhook_payload
from autocrm.notifications.services.subscriptions import (
    event_type_matches,
    event_types_clean,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_disable,
    webhook_subscription_rotate_secret,
    webhook_subscription_update,
)

__all__ = [
    "MAX_ATTEMPTS",
    "event_type_matches",
    "event_types_clean",
    "retry_delay",
    "webhook_body",
    "webhook_deliveries_create_for_event",
    "webhook_delivery_attempt",
    "webhook_payload",
    "webhook_redeliver",
    "webhook_subscription_create",
    "webhook_subscription_delete",
    "webhook_subscription_disable",
    "webhook_subscription_rotate_secret",
    "webhook_subscription_update",
]
