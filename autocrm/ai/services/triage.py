"""Triage: a tenant's classifiers trained on its own solved tickets, run on every new ticket.

Fields predicted (each when the tenant has at least two values with enough examples):
``category`` (the ticket's custom field of that key, which the tenant defines as a dropdown),
``priority``, ``team_id`` and ``assignee_id``; plus language (lingua) and sentiment for every
ticket. A suggestion is applied when the category (or the first trained field) is in scope
and at least as confident as the tenant's threshold; otherwise the result waits in the human
review queue. Only fields still at their defaults are applied: a priority, team or assignee
someone chose on purpose is never overwritten. Agents' review decisions and later edits
are on the tickets, so they are what the next training learns from.
"""

from __future__ import annotations

import functools
import io
import pickle
import time
import uuid
from collections import Counter
from typing import Any

import numpy as np
import structlog
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from autocrm.ai import events
from autocrm.ai.classifier import TriageClassifier
from autocrm.ai.language import detect_language
from autocrm.ai.models import AISettings, TriageModel, TriageResult, TriageState
from autocrm.ai.providers.embeddings import embedding_provider
from autocrm.ai.sentiment import sentiment_of
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.tickets import services as ticket_services
from autocrm.tickets.models import Message, Priority, Status, Ticket
from autocrm.tickets.services.cleaning import custom_field_definitions

logger = structlog.get_logger(__name__)

CATEGORY_FIELD = "category"
FIELDS = ("category", "priority", "team_id", "assignee_id")
# A label needs this many solved tickets to be learnt; a field needs two such labels.
MIN_EXAMPLES_PER_LABEL = 3
MAX_TRAINING_TICKETS = 20_000
TEXT_LIMIT = 2000
TRIAGE_ACTOR = Actor.system("ai_triage")


class TriageError(ValueError):
    pass


def ticket_text(subject: str, body: str) -> str:
    """What triage reads: the subject and the first message (the customer's request)."""
    return f"{subject}\n{body}".strip()[:TEXT_LIMIT]


def _first_message_text() -> Subquery:
    return Subquery(
        Message.objects.filter(ticket=OuterRef("pk"), public=True)
        .order_by("created_at", "pk")
        .values("body_text")[:1]
    )


def training_rows(tenant: Tenant) -> list[dict[str, Any]]:
    """The tenant's solved and closed tickets, newest first, with their final values."""
    rows = (
        Ticket.objects.filter(tenant=tenant, status__in=[Status.SOLVED, Status.CLOSED])
        .filter(merged_into__isnull=True)
        .annotate(first_text=_first_message_text())
        .order_by("-updated_at")
        .values("subject", "first_text", "priority", "team_id", "assignee_id", "custom_fields")[
            :MAX_TRAINING_TICKETS
        ]
    )
    out = []
    for row in rows:
        category = (row["custom_fields"] or {}).get(CATEGORY_FIELD)
        out.append(
            {
                "text": ticket_text(row["subject"], row["first_text"] or ""),
                "category": str(category) if category not in (None, "") else None,
                "priority": str(row["priority"]),
                "team_id": str(row["team_id"]) if row["team_id"] else None,
                "assignee_id": str(row["assignee_id"]) if row["assignee_id"] else None,
            }
        )
    return out


@transaction.atomic
def triage_model_train(*, tenant: Tenant, actor: Actor) -> TriageModel | None:
    """Train every field that has enough labelled solved tickets; None when none has."""
    started = time.perf_counter()
    rows = training_rows(tenant)
    provider = embedding_provider()
    vectors = provider.embed([r["text"] for r in rows]) if rows else np.zeros((0, 0))
    classifiers: dict[str, TriageClassifier] = {}
    summary: dict[str, Any] = {}
    for field in FIELDS:
        counts = Counter(r[field] for r in rows if r[field] is not None)
        labels = {label for label, n in counts.items() if n >= MIN_EXAMPLES_PER_LABEL}
        if len(labels) < 2:
            continue
        idx = [i for i, r in enumerate(rows) if r[field] in labels]
        classifier = TriageClassifier().fit(
            [rows[i]["text"] for i in idx], [rows[i][field] for i in idx], vectors[idx]
        )
        classifiers[field] = classifier
        summary[field] = {
            "labels": sorted(labels),
            "rows": len(idx),
            "calibration": classifier.calibration,
        }
    if not classifiers:
        return None
    buffer = io.BytesIO()
    pickle.dump(classifiers, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    name = default_storage.save(
        f"ai/triage/{tenant.pk}/{uuid.uuid4().hex}.pkl", ContentFile(buffer.getvalue())
    )
    TriageModel.objects.filter(tenant=tenant, active=True).update(active=False)
    model = TriageModel.objects.create(
        tenant=tenant,
        created_at=timezone.now(),
        embedding_model=provider.model_id,
        artifact=name,
        n_train=len(rows),
        fields=summary,
        train_seconds=round(time.perf_counter() - started, 2),
        active=True,
    )
    event_append(
        tenant=tenant,
        type=events.TRIAGE_MODEL_TRAINED,
        subject=model,
        actor=actor,
        payload={"n_train": len(rows), "fields": sorted(classifiers)},
    )
    return model


@functools.lru_cache(maxsize=16)
def load_classifiers(artifact: str) -> dict[str, TriageClassifier]:
    with default_storage.open(artifact, "rb") as handle:
        loaded: dict[str, TriageClassifier] = pickle.load(handle)  # noqa: S301 (our own file)
    return loaded


def active_model(tenant: Tenant) -> TriageModel | None:
    return TriageModel.objects.filter(tenant=tenant, active=True).order_by("-created_at").first()


def tenant_threshold(tenant: Tenant) -> float | None:
    row = AISettings.objects.filter(tenant=tenant).values("triage_threshold").first()
    return row["triage_threshold"] if row else None


def _value_for_ticket(field: str, label: str) -> Any:
    return int(label) if field in ("priority", "team_id", "assignee_id") else label


def _changes_to_apply(
    tenant: Tenant, ticket: Ticket, values: dict[str, Any], *, only_defaults: bool
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field, value in values.items():
        if field == CATEGORY_FIELD:
            if CATEGORY_FIELD in custom_field_definitions(tenant) and (
                not only_defaults or not ticket.custom_fields.get(CATEGORY_FIELD)
            ):
                changes["custom_fields"] = {CATEGORY_FIELD: value}
        elif field == "priority":
            if not only_defaults or ticket.priority == Priority.NORMAL:
                changes["priority"] = Priority(int(value)).label
        elif field in ("team_id", "assignee_id") and (
            not only_defaults or getattr(ticket, field) is None
        ):
            changes[field] = int(value)
    return changes


def rule_facts(
    suggestions: dict[str, Any], state: str, language: str, sentiment: str
) -> dict[str, str]:
    """What routing conditions can test (``ai.<key>``, autocrm.routing.catalogue): strings
    only, the priority by its name, as the rule builder offers them."""
    facts = {"state": str(state), "language": language or "", "sentiment": sentiment or ""}
    if CATEGORY_FIELD in suggestions:
        facts["category"] = str(suggestions[CATEGORY_FIELD]["value"])
    if "priority" in suggestions:
        facts["priority"] = Priority(int(suggestions["priority"]["value"])).label
    return facts


def ticket_triage(*, tenant: Tenant, actor: Actor, ticket_id: int) -> TriageResult:
    """Triage one ticket (idempotent: a ticket triaged before keeps its result)."""
    started = time.perf_counter()
    existing = TriageResult.objects.filter(tenant=tenant, ticket_id=ticket_id).first()
    if existing is not None:
        return existing
    ticket = (
        Ticket.objects.filter(tenant=tenant, pk=ticket_id)
        .annotate(first_text=_first_message_text())
        .get()
    )
    text = ticket_text(ticket.subject, ticket.first_text or "")
    vector = embedding_provider().embed([text])[0]
    language, language_confidence = detect_language(text)
    sentiment, sentiment_score = sentiment_of(vector)
    model = active_model(tenant)
    suggestions: dict[str, Any] = {}
    state = TriageState.UNTRAINED
    in_scope = True
    to_apply: dict[str, Any] = {}
    if model is not None:
        threshold = tenant_threshold(tenant)
        classifiers = load_classifiers(model.artifact)
        for field, classifier in classifiers.items():
            prediction = classifier.predict(text, vector)
            suggestions[field] = {
                "value": _value_for_ticket(field, prediction.label),
                "confidence": round(prediction.confidence, 4),
                "similarity": round(prediction.similarity, 4),
                "in_scope": prediction.in_scope,
                "applies": prediction.auto_applies(threshold),
            }
        primary = CATEGORY_FIELD if CATEGORY_FIELD in suggestions else next(iter(suggestions))
        in_scope = bool(suggestions[primary]["in_scope"])
        if suggestions[primary]["applies"]:
            state = TriageState.APPLIED
            to_apply = {f: s["value"] for f, s in suggestions.items() if s["applies"]}
        else:
            state = TriageState.REVIEW
    with transaction.atomic():
        result = TriageResult.objects.create(
            tenant=tenant,
            ticket_id=ticket_id,
            model=model,
            state=state,
            suggestions=suggestions,
            in_scope=in_scope,
            sentiment=sentiment,
            sentiment_score=round(sentiment_score, 4),
            language=language,
            language_confidence=round(language_confidence, 4),
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            created_at=timezone.now(),
        )
        changes = _changes_to_apply(tenant, ticket, to_apply, only_defaults=True)
        if not ticket.is_closed:
            # The result goes on the ticket too, under metadata.ai_triage: routing rules read
            # it there (``ai.category``, ``ai.language``...), and the ticket.updated event
            # this appends is what lets a trigger override triage's values (ADR 0058).
            metadata = dict(ticket.metadata or {})
            metadata["ai_triage"] = rule_facts(suggestions, state, language, sentiment)
            changes["metadata"] = metadata
            ticket_services.ticket_update(
                tenant=tenant, actor=TRIAGE_ACTOR, ticket_id=ticket_id, changes=changes
            )
        event_append(
            tenant=tenant,
            type=events.TICKET_TRIAGED,
            subject=("tickets.ticket", ticket_id),
            actor=actor,
            # The number: the ticket page's live update matches its ticket by it.
            payload={
                "state": state,
                "number": ticket.number,
                "suggestions": suggestions,
                "language": language,
            },
        )
    return result


@transaction.atomic
def triage_review(
    *,
    tenant: Tenant,
    actor: Actor,
    result_id: int,
    decision: str,
    values: dict[str, Any] | None = None,
) -> TriageResult:
    """An agent's verdict on a suggestion: ``accept`` applies it, ``correct`` applies the
    agent's ``values`` instead, ``dismiss`` applies nothing."""
    if actor.role not in ("owner", "admin", "agent"):
        raise TriageError("Only agents can review triage suggestions.")
    result = TriageResult.objects.select_for_update().get(tenant=tenant, pk=result_id)
    if result.state != TriageState.REVIEW:
        raise TriageError("This suggestion was already reviewed.")
    suggested = {f: s["value"] for f, s in result.suggestions.items()}
    if decision == "accept":
        chosen, state = suggested, TriageState.ACCEPTED
    elif decision == "correct":
        chosen = {f: v for f, v in (values or {}).items() if f in FIELDS and v not in (None, "")}
        if not chosen:
            raise TriageError("Choose at least one value.")
        state = TriageState.CORRECTED
    elif decision == "dismiss":
        chosen, state = {}, TriageState.DISMISSED
    else:
        raise TriageError(f"Unknown decision {decision!r}.")
    if chosen:
        ticket = Ticket.objects.get(tenant=tenant, pk=result.ticket_id)
        changes = _changes_to_apply(tenant, ticket, chosen, only_defaults=False)
        if changes and not ticket.is_closed:
            ticket_services.ticket_update(
                tenant=tenant, actor=actor, ticket_id=ticket.pk, changes=changes
            )
    result.state = state
    result.final_values = chosen
    result.reviewed_by = actor.user
    result.reviewed_at = timezone.now()
    result.save(update_fields=["state", "final_values", "reviewed_by", "reviewed_at"])
    event_append(
        tenant=tenant,
        type=events.TRIAGE_REVIEWED,
        subject=("tickets.ticket", result.ticket_id),
        actor=actor,
        payload={"decision": decision, "values": chosen},
    )
    return result
