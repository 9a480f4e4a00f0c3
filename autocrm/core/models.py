"""Tenants, the tenant-owned base model, and the event spine."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import DEFAULT_DB_ALIAS, models

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1-50 lowercase letters, digits and inner hyphens.",
)
# Slugs that would collide with top-level URL paths.
RESERVED_SLUGS = frozenset(
    {
        "accounts",
        "api",
        "admin",
        "static",
        "media",
        "healthz",
        "metrics",
        "ws",
        "app",
        "signup",
        "login",
        "logout",
        "invite",
        "invitations",
        "settings",
        "portal",
        "www",
        "email",
    }
)


class Tenant(models.Model):
    """A customer organisation of AutoCRM. Not itself row-level secured: it has no tenant_id,
    holds only the public slug/name, and is needed to resolve a URL or key to a tenant."""

    slug = models.SlugField(max_length=50, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(max_length=200)
    settings = models.JSONField(default=dict, blank=True)
    # Replaced whenever configuration that processes cache changes (custom field
    # definitions, ...): see autocrm.core.config_cache. A random value, so the stamp of a
    # rolled-back change never comes back.
    config_stamp = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def setting(self, key: str) -> Any:
        return self.settings.get(key, TENANT_SETTING_DEFAULTS.get(key))


TENANT_SETTING_DEFAULTS: dict[str, Any] = {
    # When true, agents see only tickets of their own teams plus those assigned to them.
    "restrict_agents_to_own_teams": False,
    # Customers of a company see its other people's requests too (help centre, API).
    "customers_see_organization_tickets": False,
    # Keys of the ticket custom fields customers fill in and see (tickets.access).
    "customer_visible_fields": [],
    # The help centre's look (autocrm.portal.branding): name shown instead of the tenant's,
    # colours as #rrggbb ("" keeps the defaults), the logo's storage name, a footer line.
    "help_brand_name": "",
    "help_primary_color": "",
    "help_header_color": "",
    "help_logo": "",
    "help_footer_text": "",
    # A host name that serves this help centre (docs/help-centre.md: the proxy in front maps
    # it to /<slug>/help/); links in customer e-mails use it when set.
    "help_custom_domain": "",
    # Who may create a customer account: "open", "invitation" (only invited addresses) or
    # "domain" (addresses at one of help_signup_domains).
    "help_signup_policy": "open",
    "help_signup_domains": [],
    # The language of customer e-mails when the requester's contact names none
    # (autocrm.inboxes.notification_templates); English after it.
    "default_locale": "en",
    # Mail the requester automatically: "we received your request" for a new ticket, and
    # "your request is solved" (autocrm.inboxes.notifications).
    "email_ticket_received": True,
    "email_ticket_solved": True,
    # Ask requesters to rate solved tickets (good/bad plus a comment).
    "csat_enabled": True,
}


_M = TypeVar("_M", bound=models.Model)


def as_stored(instance: _M) -> _M:
    """Mark an instance built from an INSERT's RETURNING values as a stored row, like a
    fetched one: ``save()`` then updates it instead of inserting a second row."""
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    return instance


class TenantOwned(models.Model):
    """Base for every tenant-owned table. Its migration must call ``rls.enable(...)``;
    ``autocrm.core.tests.test_rls`` fails for any table with tenant_id lacking the policy."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class Event(TenantOwned):
    """One state change, appended by a service inside its transaction.

    Read by the audit timeline, fanned out after commit by the dispatcher job to webhooks,
    realtime pushes, automation and counters."""

    type = models.CharField(max_length=100)
    subject_type = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "subject_type", "subject_id", "created_at"],
                name="core_event_subject",
            ),
            models.Index(fields=["tenant", "created_at"], name="core_event_created"),
            models.Index(
                fields=["created_at"],
                name="core_event_undispatched",
                condition=models.Q(dispatched_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_type}:{self.subject_id}"


class EventHandling(TenantOwned):
    """Marks that a handler has processed an event, so redelivery is harmless."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="handlings")
    handler = models.CharField(max_length=100)
    handled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "handler"], name="core_eventhandling_once")
        ]
        indexes = [models.Index(fields=["tenant", "event"], name="core_eventhandling_event")]

    def __str__(self) -> str:
        return f"{self.handler} handled event {self.event_id}"


class SystemContextLog(models.Model):
    """Audit of every use of the cross-tenant system context (no tenant_id: it spans them)."""

    reason = models.CharField(max_length=200)
    started_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.reason}"


class RateLimitCounter(models.Model):
    """Requests of one caller (``key:<id>``, ``user:<id>``, ``ip:<addr>``) in one fixed
    window. Not tenant-owned: a caller is counted before and regardless of tenant, and the
    row holds only a counter. Written by autocrm.core.ratelimit with one atomic upsert."""

    pk = models.CompositePrimaryKey("bucket", "window_start")
    bucket = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["window_start"], name="core_ratelimit_window")]

    def __str__(self) -> str:
        return f"{self.bucket} @ {self.window_start}"


class IdempotencyKey(TenantOwned):
    """The stored outcome of a POST sent with an ``Idempotency-Key`` header, so a retry gets
    the same response instead of doing the work twice (autocrm.core.idempotency). Rows are
    written in the request's transaction, so they exist exactly when the work committed."""

    caller = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.BinaryField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "caller", "key"], name="core_idempotency_once"
            )
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="core_idempotency_age")]

    def __str__(self) -> str:
        return f"{self.caller}:{self.key}"
