"""The pages inside the embeddable widget's panel (assets/help-widget.js), framed by other
sites: knowledge-base search, and the help-centre assistant (the same service as
/<tenant>/help/assistant/: published public articles only, citations, "I don't know" and a
hand-off to a person as a ticket with the transcript).

A page framed by another site gets no cookies in today's browsers (SameSite, third-party
cookie blocking), so nothing here uses the session or who is signed in: every widget
request acts as an anonymous visitor, and the assistant's conversation travels with the
page as a signed token (tenant-bound, expiring) instead of in the session. That is also
why its forms carry no CSRF token: with no ambient credentials used, a forged post can do
nothing that the forger could not do by posting directly — ask a question, or hand a
conversation to the team under an e-mail address, as any visitor may. The signature keeps
a visitor from putting words in the assistant's mouth in the transcript the team reads.

Every widget request is counted per client address and help centre (``core.ratelimit``),
hand-offs (which create tickets) once more against a lower limit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.ratelimit import RateLimitState, rate_limit_hit
from autocrm.portal import suggestions
from autocrm.portal.access import HelpRequest, help_page
from autocrm.portal.branding import knowledge_installed

# A conversation left for a day starts again (its token no longer opens).
CONVERSATION_MAX_AGE = 24 * 3600
# Turns kept (questions and answers): the token rides in every request of the conversation.
MAX_TURNS = 20


@dataclass
class Conversation:
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    turns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Names the conversation in the chatbot's events (hashed there)."""
        return f"widget:{self.id}"

    @property
    def actor(self) -> Actor:
        from autocrm.knowledge.access import visitor_actor

        return visitor_actor(self.key)


def _salt(tenant: Tenant) -> str:
    # Per tenant: a conversation of one help centre's widget never opens in another's.
    return f"autocrm.portal.widget.conversation:{tenant.pk}"


def conversation_token(tenant: Tenant, conversation: Conversation) -> str:
    return signing.dumps(
        {"id": conversation.id, "turns": conversation.turns[-MAX_TURNS:]},
        salt=_salt(tenant),
        compress=True,
    )


def conversation_load(tenant: Tenant, token: str) -> Conversation:
    """The conversation a widget page sent back; a new one for an empty token. An altered
    or expired token is a ValidationError (the visitor starts again)."""
    if not token:
        return Conversation()
    try:
        data = signing.loads(token, salt=_salt(tenant), max_age=CONVERSATION_MAX_AGE)
    except signing.BadSignature as exc:
        raise ValidationError(
            "This conversation has expired. Ask your question again to start a new one."
        ) from exc
    return Conversation(id=str(data["id"]), turns=list(data["turns"]))


def _client(request: HelpRequest) -> str:
    return f"{request.tenant.pk}:{request.META.get('REMOTE_ADDR', '')}"


def _over_limit(request: HelpRequest, kind: str, limit: int) -> RateLimitState | None:
    state = rate_limit_hit(f"help-widget{kind}:{_client(request)}", limit=limit)
    return state if state.exceeded else None


SEARCH_PAGE = "help/widget.html"
ASSISTANT_PAGE = "help/widget_assistant.html"
_TABS = {SEARCH_PAGE: "search", ASSISTANT_PAGE: "assistant"}


def _render(
    request: HelpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, {"widget_tab": _TABS[template], **context}, status=status)


def _too_many(
    request: HelpRequest, template: str, state: RateLimitState, **context: Any
) -> HttpResponse:
    error = f"Too many requests from your network. Try again in {state.reset_seconds} s."
    response = _render(request, template, {**context, "error": error}, status=429)
    for name, value in state.headers().items():
        response[name] = value
    return response


@xframe_options_exempt
@require_GET
@help_page
def widget(request: HelpRequest) -> HttpResponse:
    """Search the knowledge base, with articles and the request form opening in a new tab.
    Holds no form that changes anything."""
    q = request.GET.get("q", "")[:200].strip()
    if (state := _over_limit(request, "", settings.HELP_WIDGET_REQUESTS_PER_MINUTE)) is not None:
        return _too_many(request, SEARCH_PAGE, state, q=q, results=[])
    found: list[suggestions.Suggestion] = []
    if q and knowledge_installed():
        from autocrm.knowledge.access import visitor_actor

        found = suggestions.suggestions_for(
            tenant=request.tenant, actor=visitor_actor(request.session.session_key or ""), subject=q
        )
    return _render(request, SEARCH_PAGE, {"q": q, "results": found})


def _assistant_page(
    request: HelpRequest, conversation: Conversation, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "transcript": conversation.turns,
        "token": conversation_token(request.tenant, conversation),
        "unknown_last": bool(conversation.turns) and not conversation.turns[-1].get("answered"),
        **extra,
    }
    return _render(request, ASSISTANT_PAGE, context, status=status)


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
@help_page
def widget_assistant(request: HelpRequest) -> HttpResponse:
    """Ask the assistant: each answer comes back in the page with the updated token."""
    from autocrm.ai.chatbot import chatbot_answer
    from autocrm.knowledge.public_views import locale_of

    if (state := _over_limit(request, "", settings.HELP_WIDGET_REQUESTS_PER_MINUTE)) is not None:
        return _too_many(request, ASSISTANT_PAGE, state, transcript=[])
    if request.method != "POST":
        return _assistant_page(request, Conversation())
    try:
        conversation = conversation_load(request.tenant, request.POST.get("conversation", ""))
    except ValidationError as exc:
        return _assistant_page(request, Conversation(), status=400, error=exc.messages[0])
    question = request.POST.get("question", "")
    try:
        answer = chatbot_answer(
            tenant=request.tenant,
            actor=conversation.actor,
            question=question,
            conversation_key=conversation.key,
            locale=locale_of(request),
        )
    except ValidationError as exc:
        return _assistant_page(request, conversation, status=400, error=" ".join(exc.messages))
    conversation.turns += [
        {"role": "user", "text": " ".join(question.split())[:500]},
        {
            "role": "assistant",
            "text": answer.text,
            "answered": answer.answered,
            "citations": [
                {"n": c["n"], "title": c["title"], "url": c["url"]} for c in answer.citations
            ],
        },
    ]
    return _assistant_page(request, conversation)


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
@help_page
def widget_handoff(request: HelpRequest) -> HttpResponse:
    """Talk to a person: the conversation waits for the visitor to confirm their address
    from the link mailed there, then it is a ticket answered by e-mail (the widget's caller
    is always a visitor). A reload of the address after a hand-off lands on a fresh page."""
    from autocrm.ai.handoff import chatbot_handoff

    if request.method != "POST":
        return redirect("portal:widget_assistant", tenant_slug=request.tenant.slug)
    if (state := _over_limit(request, "", settings.HELP_WIDGET_REQUESTS_PER_MINUTE)) is not None:
        return _too_many(request, ASSISTANT_PAGE, state, transcript=[])
    try:
        conversation = conversation_load(request.tenant, request.POST.get("conversation", ""))
    except ValidationError as exc:
        return _assistant_page(request, Conversation(), status=400, error=exc.messages[0])
    if (
        state := _over_limit(request, "-handoff", settings.HELP_WIDGET_HANDOFFS_PER_MINUTE)
    ) is not None:
        return _too_many(
            request,
            ASSISTANT_PAGE,
            state,
            transcript=conversation.turns,
            token=conversation_token(request.tenant, conversation),
        )
    try:
        handoff = chatbot_handoff(
            tenant=request.tenant,
            actor=conversation.actor,
            transcript=[{"role": t["role"], "text": t["text"]} for t in conversation.turns],
            conversation_key=conversation.key,
            email=request.POST.get("email", ""),
            name=request.POST.get("name", ""),
        )
    except ValidationError as exc:
        return _assistant_page(
            request, conversation, status=400, handoff_error=" ".join(exc.messages)
        )
    return _assistant_page(request, Conversation(), confirm_to=handoff.confirm_to)
