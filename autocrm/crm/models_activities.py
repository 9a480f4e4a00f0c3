"""Activities: tasks, calls, meetings and notes linked to contacts, companies, deals and
tickets, with due dates and reminders; and the templates agents start them from. Imported
by ``crm.models``.

A reminder is sent once: the worker's sweep claims due rows by setting ``reminded_at`` in
the same statement that selects them (``crm.reminders``), so two workers, or a sweep that
runs again, never send it twice; changing ``remind_at`` clears the claim.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from autocrm.crm.base import CrmRecord


class ActivityKind(models.TextChoices):
    TASK = "task", "Task"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    NOTE = "note", "Note"


class Activity(CrmRecord):
    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True, max_length=10_000)
    # When it is due (tasks, calls) or starts (meetings); notes have none.
    due_at = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(default=0)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    company = models.ForeignKey(
        "crm.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    deal = models.ForeignKey(
        "crm.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["tenant", "owner", "due_at", "id"], name="crm_activity_owner_due"),
            models.Index(fields=["tenant", "due_at", "id"], name="crm_activity_due"),
            models.Index(fields=["tenant", "contact", "created_at"], name="crm_activity_contact"),
            models.Index(fields=["tenant", "company", "created_at"], name="crm_activity_company"),
            models.Index(fields=["tenant", "deal", "created_at"], name="crm_activity_deal"),
            models.Index(fields=["tenant", "ticket"], name="crm_activity_ticket"),
            # The reminder sweep reads only what is still to remind (all tenants at once).
            models.Index(
                fields=["remind_at"],
                name="crm_activity_remind",
                condition=models.Q(reminded_at=None, done_at=None, remind_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class ActivityTemplate(CrmRecord):
    """A ready-made activity ("Discovery call, 30 min, due in 2 days, remind 15 min before")."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True, max_length=10_000)
    due_in_days = models.PositiveIntegerField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(default=0)
    remind_minutes_before = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="crm_activitytemplate_once"),
        ]

    def __str__(self) -> str:
        return self.name
