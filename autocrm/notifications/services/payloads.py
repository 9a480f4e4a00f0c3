"""What a webhook request carries: the JSON document of an event and the signed headers."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from autocrm.core.models import Event, Tenant
from autocrm.notifications.models import WebhookDelivery
from autocrm.notifications.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

USER_AGENT = "AutoCRM-Webhooks/1"


def webhook_payload(*, tenant: Tenant, event: Event) -> dict[str, Any]:
    """The JSON document sent for ``event`` (see docs/webhooks.md)."""
    return {
        "id": event.pk,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "tenant": tenant.slug,
        "subject": {"type": event.subject_type, "id": event.subject_id},
        "actor": {"id": event.actor_id, "label": event.actor_label},
        "data": event.payload,
    }


def webhook_body(*, tenant: Tenant, event: Event) -> str:
    """The body as sent: built once at fan-out, so every attempt sends the same bytes."""
    return json.dumps(
        webhook_payload(tenant=tenant, event=event),
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
        sort_keys=True,
    )


def webhook_request_headers(delivery: WebhookDelivery, secret: str) -> dict[str, str]:
    """The headers of one attempt: a fresh timestamp and its signature of the body."""
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-AutoCRM-Event": delivery.event_type,
        "X-AutoCRM-Delivery": str(delivery.pk),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, delivery.request_body),
    }
