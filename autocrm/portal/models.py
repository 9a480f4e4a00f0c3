"""The help centre's own table: satisfaction surveys (CSAT) of solved tickets."""

from __future__ import annotations

from django.db import models

from autocrm.core.models import TenantOwned


class Rating(models.TextChoices):
    GOOD = "good", "Good"
    BAD = "bad", "Bad"


class SatisfactionSurvey(TenantOwned):
    """One request for a rating, made when a ticket is solved (again after a re-open). The
    e-mailed link carries a signed token whose random part is stored hashed; the survey is
    answered once (``rated_at``), so a link works once. The answer is the rating."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="satisfaction_surveys"
    )
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    nonce_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    rating = models.CharField(max_length=4, choices=Rating.choices, blank=True)
    comment = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "ticket", "created_at"], name="portal_survey_ticket"),
            models.Index(fields=["tenant", "rated_at"], name="portal_survey_rated"),
        ]

    def __str__(self) -> str:
        return f"survey {self.pk} of ticket {self.ticket_id}: {self.rating or 'open'}"
