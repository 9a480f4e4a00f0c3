"""Outbound webhooks: subscriptions, one delivery per (subscription, event), and its attempts.

The signing secret is stored as is: HMAC needs the secret itself, so it cannot be hashed
like an API key. It is only readable by the tenant (RLS) and only returned by the API when
created or rotated. See docs/webhooks.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from autocrm.core.models import Event, TenantOwned


class WebhookSubscription(TenantOwned):
    """A URL that receives the tenant's events. ``event_types`` holds exact types and
    ``prefix.*`` wildcards; an empty list means every event."""

    url = models.URLField(max_length=2000)
    event_types = models.JSONField(default=list, blank=True)
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    # Failed attempts since the last success, and when that failure streak began: the
    # auto-disable rule reads them (see services.webhook_delivery_attempt).
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="notif_webhooksub_created"),
            models.Index(fields=["tenant", "active"], name="notif_webhooksub_active"),
        ]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    RETRYING = "retrying", "Retrying"
    # A manual redelivery that failed: it is not retried automatically.
    FAILED = "failed", "Failed"
    # Automatic retries exhausted, or the subscription was disabled or removed meanwhile.
    ABANDONED = "abandoned", "Abandoned"


class WebhookDelivery(TenantOwned):
    """One event sent to one subscription. The body is built once, at fan-out, so every
    attempt sends the same bytes; the request/response fields describe the latest attempt."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=100)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    request_headers = models.JSONField(default=dict, blank=True)
    request_body = models.TextField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The attempt in flight: the worker that claimed it (its token) records it, until the
    # lease runs out (autocrm.notifications.services.delivery).
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="notif_webhookdelivery_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "subscription", "created_at"], name="notif_webhookdel_sub"
            ),
            models.Index(
                fields=["tenant", "status", "next_attempt_at"], name="notif_webhookdel_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.status})"


class WebhookDeliveryAttempt(TenantOwned):
    """The log of one HTTP attempt of a delivery (the delivery row keeps only the latest)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    manual = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    request_headers = models.JSONField(default=dict, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="notif_webhookattempt_once"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "delivery", "number"], name="notif_webhookatt_del"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"


class InAppKind(models.TextChoices):
    """What an agent is told about in the workspace (autocrm.notifications.inapp)."""

    ASSIGNED = "assigned", "A ticket is assigned to you"
    MENTIONED = "mentioned", "Someone mentions you in a note"
    CUSTOMER_REPLIED = "customer_replied", "A customer replies on your ticket"
    SLA_WARNING = "sla_warning", "A ticket of yours is close to its SLA target"
    ACTIVITY_REMINDER = "activity_reminder", "An activity of yours is due (CRM reminder)"
    # Generic: what an admin's trigger, automation or SLA escalation says (its subject).
    RULE = "rule", "A trigger or automation tells you about a ticket"


class InAppNotification(TenantOwned):
    """One notification for one member; read when ``read_at`` is set."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, choices=InAppKind.choices)
    subject = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "user", "-id"], name="notif_inapp_user"),
            models.Index(
                fields=["tenant", "user"],
                name="notif_inapp_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}: {self.subject}"


class InAppPreference(TenantOwned):
    """A member's choice for one kind (no row: the kind's default, see inapp.DEFAULTS)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, choices=InAppKind.choices)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "kind"], name="notif_inapppref_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}: in_app={self.in_app} email={self.email}"
