"""The help centre's assistant page (``/<tenant>/help/assistant/``): questions answered from
published public articles with citations, and "talk to a person", which opens a ticket with
the transcript. The conversation lives in the reader's session (one per tenant)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from autocrm.ai.chatbot import chatbot_answer, chatbot_handoff
from autocrm.knowledge.public_views import locale_of, reader
from autocrm.portal.access import HelpRequest, help_page

MAX_TURNS = 40


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
    try:
        ticket = chatbot_handoff(
            tenant=request.tenant,
            actor=reader(request),
            transcript=[{"role": t["role"], "text": t["text"]} for t in transcript],
            conversation_key=conversation_key,
            email=request.POST.get("email", ""),
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
    messages.success(
        request, f"Request #{ticket.number} sent to our team with this conversation. "
        "We will reply by email."
    )  # fmt: skip
    return redirect("portal:assistant", tenant_slug=request.tenant.slug)
