"""The help centre's assistant page (``/<tenant>/help/assistant/``): questions answered from
published public articles with citations, and "talk to a person", which opens a ticket with
the transcript. The conversation lives in the reader's session (one per tenant).

Anyone may use it, signed in or not, so both are rate-limited with allauth's limiter (the
one that throttles logins; sliding windows in the shared cache, rates in
``ACCOUNT_RATE_LIMITS``): questions per client address and per session, hand-offs per
address, per session and per email address given, so nobody can flood the team with
tickets or someone's inbox with our confirmation links. Over a limit, the page says so
(429) and keeps the conversation. A visitor's hand-off becomes a ticket only once the
address they gave is confirmed (:mod:`autocrm.ai.handoff`)."""

from __future__ import annotations

from typing import Any

from allauth.core import ratelimit
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from autocrm.ai.chatbot import chatbot_answer
from autocrm.ai.handoff import CONFIRM_HOURS, chatbot_handoff, handoff_confirm, handoff_pending
from autocrm.knowledge.public_views import locale_of, reader
from autocrm.portal.access import HelpRequest, help_page
from autocrm.tickets.models import Ticket

MAX_TURNS = 40
TOO_MANY_QUESTIONS = "You have asked many questions in a short time. Please wait a minute."
TOO_MANY_HANDOFFS = (
    "Several requests were already sent to our team from here. Please try again later, "
    "or write to us by email."
)
TOO_MANY_FOR_EMAIL = (
    "Several requests were already sent to our team for this email address in the last "
    "hour. We will answer those; please try again later."
)


def _allowed(request: HelpRequest, action: str, key: str) -> bool:
    """Count one attempt of ``action`` for the client address and ``key`` (the reader's
    session, an email address: with the tenant, so tenants do not share budgets)."""
    return ratelimit.consume(request, action=action, key=f"{request.tenant.pk}:{key}")


def _key(request: HelpRequest) -> str:
    return f"ai_assistant:{request.tenant.pk}"


def _conversation(request: HelpRequest) -> tuple[str, list[dict[str, Any]]]:
    """The conversation's key (what the dashboard counts deflection by: a new one after each
    hand-off) and its transcript so far."""
    if request.session.session_key is None:
        request.session.save()
    number = request.session.get(_key(request) + ":n", 0)
    key = f"{request.tenant.pk}:{request.session.session_key}:{number}"
    return key, list(request.session.get(_key(request), []))


def _next_conversation(request: HelpRequest) -> None:
    request.session[_key(request)] = []
    request.session[_key(request) + ":n"] = request.session.get(_key(request) + ":n", 0) + 1


def _render(
    request: HelpRequest, transcript: list[dict[str, Any]], status: int = 200, **extra: Any
) -> HttpResponse:
    template = (
        "help/assistant/_log.html"
        if request.headers.get("HX-Request") == "true"
        else "help/assistant/page.html"
    )
    signed_in = getattr(request, "membership", None) is not None
    return render(
        request,
        template,
        {"transcript": transcript, "signed_in": signed_in, **extra},
        status=status,
    )


@help_page
def assistant(request: HelpRequest) -> HttpResponse:
    conversation_key, transcript = _conversation(request)
    if request.method != "POST":
        return _render(request, transcript)
    question = request.POST.get("question", "")
    if not _allowed(request, "ai_chatbot_question", str(request.session.session_key)):
        return _render(request, transcript, error=TOO_MANY_QUESTIONS, status=429)
    try:
        answer = chatbot_answer(
            tenant=request.tenant,
            actor=reader(request),
            question=question,
            conversation_key=conversation_key,
            locale=locale_of(request),
        )
    except ValidationError as exc:
        return _render(request, transcript, error=" ".join(exc.messages), status=400)
    transcript.append({"role": "user", "text": " ".join(question.split())[:500]})
    transcript.append(
        {
            "role": "assistant",
            "text": answer.text,
            "answered": answer.answered,
            "citations": answer.citations,
        }
    )
    request.session[_key(request)] = transcript[-MAX_TURNS:]
    if request.headers.get("HX-Request") == "true":
        return _render(request, transcript)
    return redirect("portal:assistant", tenant_slug=request.tenant.slug)


@help_page
def assistant_handoff(request: HelpRequest) -> HttpResponse:
    conversation_key, transcript = _conversation(request)
    if request.method != "POST":
        return redirect("portal:assistant", tenant_slug=request.tenant.slug)
    actor = reader(request)
    email = request.POST.get("email", "").strip()
    limited = ""
    # The address the ticket's acknowledgement goes to: a signed-in customer's own, else
    # the one typed in.
    to = actor.user.email if actor.role == "customer" and actor.user else email
    if not _allowed(request, "ai_chatbot_handoff", str(request.session.session_key)):
        limited = TOO_MANY_HANDOFFS
    elif not _allowed(request, "ai_chatbot_handoff_email", to.lower()):
        limited = TOO_MANY_FOR_EMAIL
    if limited:
        request.method = "GET"
        return _render(request, transcript, handoff_error=limited, status=429)
    try:
        handoff = chatbot_handoff(
            tenant=request.tenant,
            actor=actor,
            transcript=[{"role": t["role"], "text": t["text"]} for t in transcript],
            conversation_key=conversation_key,
            email=email,
            name=request.POST.get("name", ""),
        )
    except ValidationError as exc:
        request.method = "GET"
        return _render(
            request,
            transcript,
            handoff_error=" ".join(exc.messages),
            status=400,
        )
    _next_conversation(request)
    messages.success(request, handed_off_message(handoff.ticket, handoff.confirm_to))
    return redirect("portal:assistant", tenant_slug=request.tenant.slug)


def handed_off_message(ticket: Ticket | None, confirm_to: str) -> str:
    if ticket is not None:
        return (
            f"Request #{ticket.number} sent to our team with this conversation. "
            "We will reply by email."
        )
    return (
        f"Almost done: we sent a link to {confirm_to}. Open it within {CONFIRM_HOURS} hours "
        "to send this conversation to our team (this keeps anyone from writing to us in "
        "someone else's name)."
    )


@help_page
def assistant_confirm(request: HelpRequest, token: str) -> HttpResponse:
    """The link of a visitor's confirmation mail: a button (mail scanners open links, they
    do not press buttons), then the ticket. Confirming twice shows the same request."""
    try:
        pending = handoff_pending(tenant=request.tenant, token=token)
        ticket = (
            handoff_confirm(tenant=request.tenant, token=token)
            if request.method == "POST"
            else pending.ticket
        )
    except ValidationError as exc:
        return render(
            request, "help/assistant/confirm.html", {"error": " ".join(exc.messages)}, status=400
        )
    return render(
        request,
        "help/assistant/confirm.html",
        {"email": pending.email, "ticket": ticket, "turns": len(pending.transcript)},
    )
