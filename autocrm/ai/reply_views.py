"""The suggested reply in the ticket page's AI panel (htmx partials): ask for a draft, read
it with its sources, insert it into the composer (static/js/ai-draft.js) or reject it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, staff_required
from autocrm.ai.models import ReplyDraft
from autocrm.ai.services.replies import ReplyError, reply_decide, reply_inserted, reply_suggest
from autocrm.tickets.models import Ticket
from autocrm.workspace.common import actor_for

TEMPLATE = "workspace/ai/_draft.html"


def _number_to_id(request: TenantRequest, number: int) -> int | None:
    return (
        Ticket.objects.filter(tenant=request.tenant, number=number)
        .values_list("pk", flat=True)
        .first()
    )


@staff_required
@require_POST
def draft_suggest(request: TenantRequest, number: int):  # type: ignore[no-untyped-def]
    ticket_id = _number_to_id(request, number)
    context: dict[str, object] = {"tenant": request.tenant, "number": number}
    if ticket_id is None:
        context["error"] = "This ticket no longer exists."
        return render(request, TEMPLATE, context, status=404)
    try:
        context["draft"] = reply_suggest(
            tenant=request.tenant, actor=actor_for(request), ticket_id=ticket_id
        )
    except Ticket.DoesNotExist:
        context["error"] = "This ticket no longer exists."
        return render(request, TEMPLATE, context, status=404)
    except ReplyError as exc:
        context["error"] = str(exc)
    return render(request, TEMPLATE, context)


@staff_required
@require_POST
def draft_reject(request: TenantRequest, draft_id: int):  # type: ignore[no-untyped-def]
    context: dict[str, object] = {"tenant": request.tenant}
    try:
        draft = reply_decide(
            tenant=request.tenant,
            actor=actor_for(request),
            draft_id=draft_id,
            decision="reject",
            reason=request.POST.get("reason", ""),
        )
    except ReplyDraft.DoesNotExist:
        context["error"] = "That draft no longer exists."
        return render(request, TEMPLATE, context, status=404)
    except ValidationError as exc:
        draft = ReplyDraft.objects.get(tenant=request.tenant, pk=draft_id)
        context.update(draft=draft, reject_error=" ".join(exc.messages))
        return render(request, TEMPLATE, context, status=422)
    context.update(draft=draft, number=None)
    return render(request, TEMPLATE, context)


@staff_required
@require_POST
def draft_inserted(request: TenantRequest, draft_id: int) -> HttpResponse:
    """Sent by static/js/ai-draft.js when the agent inserts the draft into the composer: only
    then does the reply they send decide the draft (204; 404 for a draft that is gone)."""
    try:
        reply_inserted(tenant=request.tenant, actor=actor_for(request), draft_id=draft_id)
    except ReplyDraft.DoesNotExist:
        return HttpResponse(status=404)
    return HttpResponse(status=204)
