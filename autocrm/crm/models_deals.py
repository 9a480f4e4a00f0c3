"""Sales records: pipelines with stages, leads and deals, lead-scoring models, deal
assignment rules. Imported by ``crm.models`` (one app, one migration history).

A lead and a deal are one table (``Deal.kind``): a lead is an unqualified opportunity that
sits in a pipeline like a deal does, is scored and assigned the same way, and becomes a
deal by ``deal_convert`` without copying a row (its activities, events and links stay).
Won and lost are a deal's ``status``, not stages: a deal keeps the stage it was closed in,
so "lost at negotiation" stays answerable, and every pipeline shares the same two outcomes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from autocrm.crm.base import CrmRecord


class Pipeline(CrmRecord):
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="crm_pipeline_name_once"),
        ]
        indexes = [models.Index(fields=["tenant", "position", "id"], name="crm_pipeline_order")]

    def __str__(self) -> str:
        return self.name


class Stage(CrmRecord):
    """A step of a pipeline; ``probability`` (0-100) weights the forecast of its deals."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "pipeline", "name"], name="crm_stage_name_once"
            ),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="crm_stage_probability_range"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "pipeline", "position", "id"], name="crm_stage_order")
        ]

    def __str__(self) -> str:
        return self.name


class DealKind(models.TextChoices):
    LEAD = "lead", "Lead"
    DEAL = "deal", "Deal"


class DealStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Deal(CrmRecord):
    kind = models.CharField(max_length=10, choices=DealKind.choices, default=DealKind.DEAL)
    title = models.CharField(max_length=200)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    # Order within the stage's column on the board (smaller first; gaps allowed).
    position = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    expected_close_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    company = models.ForeignKey(
        "crm.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    status = models.CharField(max_length=10, choices=DealStatus.choices, default=DealStatus.OPEN)
    # Why it was won or lost (free text, required when closing as lost).
    close_reason = models.CharField(max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Lead score 0-100 and its reasons ([{"points"|"weight", "text"}]), kept by crm.scoring.
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    score_reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "pipeline", "status", "stage", "position", "id"],
                name="crm_deal_board",
            ),
            models.Index(fields=["tenant", "owner", "status"], name="crm_deal_owner"),
            models.Index(fields=["tenant", "status", "expected_close_date"], name="crm_deal_close"),
            models.Index(fields=["tenant", "contact"], name="crm_deal_contact"),
            models.Index(fields=["tenant", "company"], name="crm_deal_company"),
            models.Index(fields=["tenant", "created_at", "id"], name="crm_deal_created"),
            # The table's other orderings (DEAL_ORDERINGS): without them a page sorted every
            # deal of the tenant (6-8 s at 300,000 deals).
            models.Index(fields=["tenant", "title", "id"], name="crm_deal_title"),
            models.Index(fields=["tenant", "amount", "id"], name="crm_deal_amount"),
            # ``q``: word similarity (%>, LEAKPROOF in our databases, so usable under
            # row-level security; ILIKE is not and read every deal of the tenant).
            GinIndex(fields=["title"], name="crm_deal_title_trgm", opclasses=["gin_trgm_ops"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="crm_deal_amount_min"),
        ]

    def __str__(self) -> str:
        return self.title


class ScoringRuleKind(models.TextChoices):
    AMOUNT_AT_LEAST = "amount_at_least", "Amount at least"
    HAS_COMPANY = "has_company", "Linked to a company"
    HAS_CONTACT = "has_contact", "Linked to a contact"
    CONTACT_TAG = "contact_tag", "Contact has tag"
    CONTACT_CONSENT_EMAIL = "contact_consent_email", "Contact agreed to e-mail"
    STAGE_PROBABILITY_AT_LEAST = "stage_probability_at_least", "Stage probability at least"
    RECENT_ACTIVITY = "recent_activity", "An activity in the last N days"


class ScoringRule(CrmRecord):
    """One rule of lead scoring: when it matches, ``points`` are added (or taken)."""

    kind = models.CharField(max_length=40, choices=ScoringRuleKind.choices)
    value = models.CharField(max_length=100, blank=True)
    points = models.SmallIntegerField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "active"], name="crm_scoringrule_active")]

    def __str__(self) -> str:
        return f"{self.kind} {self.value} {self.points:+d}"


class ScoringModel(CrmRecord):
    """A logistic regression trained on the tenant's won/lost deals (scikit-learn), stored
    as its numbers (feature names, scaler means/scales, coefficients), never as a pickle:
    scoring a deal is arithmetic, and loading one never runs code."""

    trained_at = models.DateTimeField()
    samples = models.PositiveIntegerField()
    won = models.PositiveIntegerField()
    features = models.JSONField()
    means = models.JSONField()
    scales = models.JSONField()
    coefficients = models.JSONField()
    intercept = models.FloatField()
    accuracy = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-trained_at"], name="crm_scoringmodel_latest")]

    def __str__(self) -> str:
        return f"scoring model {self.trained_at:%Y-%m-%d}"


class DealAssignmentRule(CrmRecord):
    """Who a new lead or deal without an owner goes to: the first active rule (by position)
    whose conditions all hold hands it to its users in turn (round robin)."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    pipeline = models.ForeignKey(Pipeline, null=True, blank=True, on_delete=models.CASCADE)
    kind = models.CharField(max_length=10, choices=DealKind.choices, blank=True)
    min_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    contact_tag = models.CharField(max_length=50, blank=True)
    user_ids = models.JSONField(default=list)
    # The index in user_ids of the last user given a record (advanced under a row lock).
    last_index = models.IntegerField(default=-1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "active", "position", "id"], name="crm_dealrule_order")
        ]

    def __str__(self) -> str:
        return self.name
