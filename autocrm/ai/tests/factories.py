"""Tenants with solved, categorised tickets to train triage on (real services), triage
results and reply drafts as the AI services leave them, a long conversation to summarise."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from autocrm.ai.chatbot import CHATBOT_ACTOR, conversation_subject
from autocrm.ai.events import CHATBOT_ANSWERED
from autocrm.ai.handoff import chatbot_handoff
from autocrm.ai.models import ReplyDraft, TriageResult, TriageState
from autocrm.ai.tests.samples import SAMPLES
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.tickets import config_services
from autocrm.tickets.models import Ticket
from autocrm.tickets.services.messages import ticket_message_add
from autocrm.tickets.tests.factories import SYSTEM, ticket

ADMIN = SYSTEM


def category_field(tenant: Tenant) -> None:
    config_services.custom_field_create(
        tenant=tenant,
        actor=SYSTEM,
        label="Category",
        key="category",
        field_type="dropdown",
        options=sorted(SAMPLES),
    )


def solved_history(tenant: Tenant) -> None:
    """One solved ticket per sample text, its category set as agents would have."""
    for label, texts in SAMPLES.items():
        for text in texts:
            ticket(
                tenant,
                subject=text,
                body=f"Hello, {text.lower()} Thanks.",
                status="solved",
                custom_fields={"category": label},
            )


def triaged(
    tenant: Tenant, state: str, suggested: str, *, final: str | None = None, **ticket_values: Any
) -> TriageResult:
    """A ticket and its triage result as the triage service leaves them (the ticket with
    the values agents finally chose)."""
    t = ticket(tenant, subject=f"About {suggested}", body="Please help.", **ticket_values)
    return TriageResult.objects.create(
        tenant=tenant,
        ticket_id=t.pk,
        state=state,
        suggestions={
            "category": {"value": suggested, "confidence": 0.9, "similarity": 0.8, "in_scope": True}
        },
        in_scope=state != TriageState.REVIEW,
        final_values={"category": final} if final else {},
        latency_ms=12.0,
        created_at=timezone.now(),
    )


def draft(tenant: Tenant, state: str, edit_distance: int | None = None) -> ReplyDraft:
    t = ticket(tenant, subject="Draft", body="Where is my order?")
    return ReplyDraft.objects.create(
        tenant=tenant,
        ticket=t,
        body="Your order ships today [1].",
        mode="extractive",
        state=state,
        edit_distance=edit_distance,
        created_at=timezone.now(),
    )


def chatbot_conversation(
    tenant: Tenant, key: str, answers: list[bool], *, handed_off: bool = False
) -> None:
    """A help-centre assistant conversation as the chatbot leaves it: one answered event per
    question (False: "I don't know"), then a visitor's hand-off if ``handed_off`` (waiting
    for the address to be confirmed: the visitor asked for a person all the same)."""
    for answered in answers:
        event_append(
            tenant=tenant,
            type=CHATBOT_ANSWERED,
            subject=conversation_subject(key),
            actor=CHATBOT_ACTOR,
            payload={"answered": answered, "mode": "extractive", "article_ids": []},
        )
    if handed_off:
        chatbot_handoff(
            tenant=tenant,
            actor=CHATBOT_ACTOR,
            transcript=[{"role": "user", "text": "Where is my parcel?"}],
            conversation_key=key,
            email=f"visitor-{key}@example.test",
        )


REQUEST = (
    "Hello there. My order 5521 arrived with a cracked screen on the tablet. "
    "I would like a replacement tablet shipped to my office address instead. Thanks!"
)


def long_ticket(tenant: Tenant) -> Ticket:
    """A conversation of six messages (one an internal note) to summarise."""
    t = ticket(tenant, subject="Tablet arrived broken", body=REQUEST)
    for body, public in [
        ("Sorry to hear that. Could you send a photo of the cracked screen please?", True),
        ("Customer is a repeat buyer, approve the replacement without a return.", False),
        ("Here is the photo of the cracked screen, it is badly damaged.", True),
        ("Thanks. A replacement tablet will ship to your office address tomorrow.", True),
        ("Great, thank you so much.", True),
    ]:
        ticket_message_add(tenant=tenant, actor=SYSTEM, ticket_id=t.pk, body=body, public=public)
    return t
