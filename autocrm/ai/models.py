"""The AI app's tables: per-tenant settings and LLM usage, trained triage models and their
results (the human review queue is the results waiting for review), indexed chunks of
solved tickets and KB articles, reply drafts and chatbot conversations.

Every AI output row records the model that made it, its latency and the human's verdict, so
accuracy, acceptance and cost are reportable per tenant (the AI dashboard).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from pgvector.django import HnswIndex, VectorField

from autocrm.ai import histogram
from autocrm.ai.providers.embeddings import DIMENSIONS
from autocrm.core.models import Tenant, TenantOwned


class AISettings(TenantOwned):
    """A tenant's AI choices; a tenant without a row uses the defaults."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="+")
    triage_enabled = models.BooleanField(default=True)
    # Suggestions below this confidence wait for review (None: the model's calibrated floor).
    triage_threshold = models.FloatField(null=True, blank=True)
    # US dollars per calendar month for LLM calls (None: settings.AI_LLM_MONTHLY_BUDGET).
    llm_monthly_budget = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class LLMUsage(TenantOwned):
    """Calls, tokens, cost and latency of one tenant's LLM calls for one feature on one day
    (UTC): the budget sums a month of them, the dashboard charts them over time."""

    day = models.DateField()
    feature = models.CharField(max_length=30)
    calls = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms_total = models.FloatField(default=0)
    # Calls that answered, counted per latency bucket (autocrm.ai.histogram): the dashboard's
    # p50/p95 per day or week, which a total cannot give.
    latency_histogram = ArrayField(
        models.PositiveIntegerField(),
        size=histogram.SIZE,
        default=histogram.empty,
        db_default=histogram.empty(),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "feature"], name="ai_llmusage_once")
        ]


class TriageModel(TenantOwned):
    """One training run of a tenant's triage classifiers (one per field); the newest
    ``active`` one is used. The fitted classifiers live in the file storage."""

    created_at = models.DateTimeField()
    embedding_model = models.CharField(max_length=100)
    artifact = models.CharField(max_length=300)
    n_train = models.PositiveIntegerField(default=0)
    # {"category": {"labels": [...], "rows": n, "calibration": {...}}, "priority": ...}
    fields = models.JSONField(default=dict)
    train_seconds = models.FloatField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="ai_triagemodel_newest")]


class TriageState(models.TextChoices):
    APPLIED = "applied", "Applied"  # confident and in scope: applied to the ticket
    REVIEW = "review", "Waiting for review"  # below threshold or out of scope
    ACCEPTED = "accepted", "Accepted"  # reviewed: the suggestion was right
    CORRECTED = "corrected", "Corrected"  # reviewed: an agent chose other values
    DISMISSED = "dismissed", "Dismissed"  # reviewed: nothing applied
    UNTRAINED = "untrained", "No model yet"  # language and sentiment only


class TriageResult(TenantOwned):
    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(TriageModel, null=True, blank=True, on_delete=models.SET_NULL)
    state = models.CharField(max_length=10, choices=TriageState.choices)
    # {"category": {"value": "billing", "confidence": 0.93, "similarity": 0.71,
    #   "in_scope": true}, "priority": {...}, "team_id": {...}, "assignee_id": {...}}
    suggestions = models.JSONField(default=dict)
    in_scope = models.BooleanField(default=True)
    sentiment = models.CharField(max_length=10, blank=True)
    sentiment_score = models.FloatField(default=0)
    language = models.CharField(max_length=10, blank=True)
    language_confidence = models.FloatField(default=0)
    latency_ms = models.FloatField(default=0)
    created_at = models.DateTimeField()
    # What the agents finally chose (filled at review and when the ticket is solved): the
    # dashboard's accuracy compares it with ``suggestions``.
    final_values = models.JSONField(default=dict, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "state", "-created_at"], name="ai_triage_state"),
        ]


class SourceType(models.TextChoices):
    TICKET = "ticket", "Solved ticket"
    ARTICLE = "article", "KB article"
    DOCUMENT = "document", "Evaluation document"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"  # customers may retrieve it (published public KB articles)
    INTERNAL = "internal", "Internal"  # staff only (solved tickets, internal articles)


class Chunk(TenantOwned):
    """A passage of a solved ticket or a KB article with its embedding and its FTS vector.
    Retrieval filters on tenant (RLS) and visibility in the same SQL statement."""

    source_type = models.CharField(max_length=10, choices=SourceType.choices)
    source_id = models.CharField(max_length=64)
    position = models.PositiveIntegerField()
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    locale = models.CharField(max_length=10, blank=True)
    title = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    embedding = VectorField(dimensions=DIMENSIONS)
    embedding_model = models.CharField(max_length=100)
    search_vector = SearchVectorField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source_type", "source_id", "position"], name="ai_chunk_once"
            )
        ]
        indexes = [
            HnswIndex(
                name="ai_chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search_vector"], name="ai_chunk_fts"),
            models.Index(fields=["tenant", "source_type", "source_id"], name="ai_chunk_source"),
        ]


class DraftState(models.TextChoices):
    # Not (yet) used: never inserted into the composer, or inserted and not sent yet.
    SUGGESTED = "suggested", "Suggested"
    ACCEPTED = "accepted", "Accepted"
    EDITED = "edited", "Edited and sent"
    REJECTED = "rejected", "Rejected"


class ReplyDraft(TenantOwned):
    """A suggested reply and the agent's verdict on it."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    # [{"n": 1, "title": ..., "url": ..., "source_type": ..., "source_id": ...}, ...]
    citations = models.JSONField(default=list)
    mode = models.CharField(max_length=10)  # "llm" or "extractive"
    model = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=10, choices=DraftState.choices)
    final_body = models.TextField(blank=True)
    edit_distance = models.PositiveIntegerField(null=True, blank=True)
    reject_reason = models.CharField(max_length=500, blank=True)
    latency_ms = models.FloatField(default=0)
    # When the agent put it into the composer ("Insert into reply"): only an inserted draft
    # is decided by the reply the agent sends (a reply written without it says nothing
    # about the draft).
    inserted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "ticket", "-created_at"], name="ai_draft_ticket")]


class PendingHandoff(TenantOwned):
    """A help-centre visitor asked for a person and gave an email address: the conversation
    waits here until the link mailed to that address is followed (ADR 0050). Only then is
    it a ticket from that contact, so nobody can file requests in someone else's name or
    make us mail a stranger more than the one confirmation."""

    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    transcript = models.JSONField(default=list)
    conversation = models.CharField(max_length=16)  # the events' subject id (hashed key)
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["tenant", "created_at"], name="ai_handoff_created")]
