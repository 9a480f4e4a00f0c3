"""One ticket at ``/<tenant>/agent/tickets/<number>/``: the conversation, the composer, the
property panel (saved inline, refused when the ticket changed meanwhile), the audit timeline
in words, the customer's context and prev/next in the queue on screen."""

from __future__ import annotations

import re
from typing import IO, Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, staff_required
from autocrm.core.downloads import sandboxed_file_response
from autocrm.realtime.selectors import others_wrote_since
from autocrm.routing.selectors import team_names
from autocrm.tickets import (
    attachments,
    config_selectors,
    link_selectors,
    page_reads,
    pdf_preview,
    selectors,
    services,
)
from autocrm.tickets.errors import TicketClosedError, VersionConflictError
from autocrm.tickets.models import Attachment, Macro, Ticket
from autocrm.workspace import conversation, queues, ticket_timeline
from autocrm.workspace.agent_forms import (
    ComposerForm,
    MacroForm,
    MergeForm,
    PropertiesForm,
)
from autocrm.workspace.common import actor_for, assignable_agents, is_htmx, staff_members
from autocrm.workspace.conversation import PDF_TYPE, PREVIEW_TYPES

OTHER_TICKETS = 5
TIMELINE_LENGTH = 50


def _ticket(request: TenantRequest, number: int) -> Ticket:
    try:
        return selectors.ticket_get_by_number(
            tenant=request.tenant, actor=actor_for(request), number=number
        )
    except Ticket.DoesNotExist as exc:
        raise Http404("No such ticket.") from exc


def _properties_form(request: TenantRequest, ticket: Ticket, data: Any = None) -> PropertiesForm:
    initial = {
        "version": ticket.version,
        "status": ticket.status,
        "priority": ticket.priority_name,
        "assignee": str(ticket.assignee_id or ""),
        "team": str(ticket.team_id or ""),
        "tags": " ".join(ticket.tags),
        "type": ticket.type,
    }
    actor = actor_for(request)
    teams = team_names(tenant=request.tenant, actor=actor)
    return PropertiesForm(
        data,
        initial=initial,
        agents=assignable_agents(request),
        teams=teams,
        custom_fields=config_selectors.custom_fields_active(tenant=request.tenant, actor=actor),
        current_custom=ticket.custom_fields,
    )


def _context(request: TenantRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """Everything the ticket page shows, in a fixed number of queries."""
    tenant, actor = request.tenant, actor_for(request)
    talk = conversation.conversation(tenant=tenant, actor=actor, ticket=ticket)
    events = page_reads.ticket_history(
        tenant=tenant, actor=actor, ticket=ticket, limit=TIMELINE_LENGTH
    )
    previous, following = queues.neighbours(request.session, ticket.number)
    context: dict[str, Any] = {
        "ticket": ticket,
        "conversation": talk.html,
        "last_message_id": talk.last_message_id,
        "ticket_files": conversation.file_items(
            talk.ticket_files, conversation.attachment_base_url(tenant), previews=False
        )
        if talk.ticket_files
        else "",
        "history": conversation.history_items(
            ticket_timeline.describe_ticket_events(tenant, events)
        ),
        "other_tickets": page_reads.requester_tickets(
            tenant=tenant, actor=actor, ticket=ticket, limit=OTHER_TICKETS
        ),
        "previous_number": previous,
        "next_number": following,
        "can_edit": actor.role != "light_agent",
        "properties": _properties_form(request, ticket),
        "links": link_selectors.ticket_links(tenant=tenant, actor=actor, ticket=ticket),
        "composer": ComposerForm(
            initial={"kind": "note" if actor.role == "light_agent" else "public"}
        ),
        "macros": config_selectors.macro_choices(tenant=tenant, actor=actor),
        "attachment_max_bytes": settings.ATTACHMENT_MAX_BYTES,
        "undo_send_seconds": settings.COMPOSER_UNDO_SECONDS,
        "mentionables": [
            {"id": user_id, "label": name} for user_id, name in staff_members(request)
        ],
        "mentionables_id": f"mentionables-{ticket.number}",
    }
    context.update(extra)
    return context


@staff_required
def ticket_page(request: TenantRequest, number: int) -> HttpResponse:
    ticket = _ticket(request, number)
    return render(request, "workspace/agent/ticket.html", _context(request, ticket))


def _main(request: TenantRequest, number: int, status: int = 200, **extra: Any) -> HttpResponse:
    """The ticket's main area after an action (htmx), or the page again without htmx."""
    ticket = _ticket(request, number)
    if not is_htmx(request) and status == 200:
        return redirect("workspace:agent_ticket", tenant_slug=request.tenant.slug, number=number)
    template = (
        "workspace/agent/_ticket_main.html" if is_htmx(request) else "workspace/agent/ticket.html"
    )
    return render(request, template, _context(request, ticket, **extra), status=status)


@staff_required
@require_POST
def ticket_properties(request: TenantRequest, number: int) -> HttpResponse:
    """Save the property panel. The form carries the version it was rendered from: when the
    ticket changed since, nothing is saved and the panel says so with the current values."""
    ticket = _ticket(request, number)
    form = _properties_form(request, ticket, request.POST)
    if not form.is_valid():
        return _main(request, number, 400, properties_error="Check the highlighted fields.")
    try:
        services.ticket_update(
            tenant=request.tenant,
            actor=actor_for(request),
            ticket_id=ticket.pk,
            changes=form.changes(),
            if_version=form.cleaned_data["version"],
        )
    except VersionConflictError:
        return _main(
            request,
            number,
            409,
            properties_error=(
                "Someone else changed this ticket while you were editing it. Nothing was "
                "saved: these are the current values; make your change again."
            ),
        )
    except (PermissionDenied, TicketClosedError) as exc:
        return _main(
            request,
            number,
            403 if isinstance(exc, PermissionDenied) else 409,
            properties_error=str(exc),
        )
    except ValidationError as exc:
        return _main(request, number, 400, properties_error=" ".join(exc.messages))
    return _main(request, number, properties_notice="Saved.")


@staff_required
@require_POST
def ticket_reply(request: TenantRequest, number: int) -> HttpResponse:
    """A public reply or internal note, its files, and "submit as <status>": all in one
    transaction, so a refused status change or file leaves no half-sent reply."""
    ticket = _ticket(request, number)
    actor = actor_for(request)
    form = ComposerForm(request.POST)
    uploads = request.FILES.getlist("files")
    if not form.is_valid():
        return _main(request, number, 400, composer=form, composer_error=_first_error(form))
    public = form.cleaned_data["kind"] == "public"
    status = form.cleaned_data["submit_status"]
    last_seen = form.cleaned_data["last_message"]
    if last_seen is not None:
        others = others_wrote_since(
            tenant=request.tenant, actor=actor, ticket=ticket, after=last_seen
        )
        if others:
            # Not sent: the page comes back with their message in the conversation and this
            # reply still in the composer, whose last_message is now theirs: sending again
            # is the confirmation.
            return _main(request, number, 409, composer=form, composer_collision=others)
    try:
        with transaction.atomic():
            message = services.ticket_message_add(
                tenant=request.tenant,
                actor=actor,
                ticket_id=ticket.pk,
                body=form.cleaned_data["body"],
                body_format="composer",
                public=public,
                channel="web",
            )
            attachments.attachments_claim(
                tenant=request.tenant,
                actor=actor,
                ticket_id=ticket.pk,
                message_id=message.pk,
                attachment_ids=inline_attachment_ids(message.body_html),
            )
            for upload in uploads:
                attachments.attachment_create(
                    tenant=request.tenant,
                    actor=actor,
                    ticket_id=ticket.pk,
                    upload=upload,
                    filename=upload.name or "attachment",
                    size=upload.size or 0,
                    message_id=message.pk,
                )
            if status:
                services.ticket_update(
                    tenant=request.tenant,
                    actor=actor,
                    ticket_id=ticket.pk,
                    changes={"status": status},
                )
    except (PermissionDenied, TicketClosedError) as exc:
        code = 403 if isinstance(exc, PermissionDenied) else 409
        return _main(request, number, code, composer=form, composer_error=str(exc))
    except ValidationError as exc:
        return _main(request, number, 400, composer=form, composer_error=" ".join(exc.messages))
    sent = "Reply sent." if public else "Internal note added."
    return _main(request, number, composer_sent=True, composer_notice=sent)


def _first_error(form: ComposerForm) -> str:
    return str(
        next(iter(e for errors in form.errors.values() for e in errors), "Check the message.")
    )


@staff_required
@require_POST
def ticket_macro(request: TenantRequest, number: int) -> HttpResponse:
    ticket = _ticket(request, number)
    form = MacroForm(request.POST)
    if not form.is_valid():
        return _main(request, number, 400, macro_error="Choose a macro.")
    try:
        services.macro_apply(
            tenant=request.tenant,
            actor=actor_for(request),
            ticket_id=ticket.pk,
            macro_id=form.cleaned_data["macro"],
        )
    except Macro.DoesNotExist:
        return _main(request, number, 400, macro_error="That macro does not exist any more.")
    except (PermissionDenied, TicketClosedError) as exc:
        code = 403 if isinstance(exc, PermissionDenied) else 409
        return _main(request, number, code, macro_error=str(exc))
    except ValidationError as exc:
        return _main(request, number, 400, macro_error=" ".join(exc.messages))
    return _main(request, number, composer_notice="Macro applied.")


@staff_required
@require_POST
def ticket_merge(request: TenantRequest, number: int) -> HttpResponse:
    """Merge this ticket into another (by number): its conversation moves there and this one
    closes. Then the agent continues on the target ticket."""
    ticket = _ticket(request, number)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _main(
            request, number, 400, merge_error="Give the number of the ticket to merge into."
        )
    target_number = form.cleaned_data["into"]
    try:
        target = selectors.ticket_get_by_number(
            tenant=request.tenant, actor=actor_for(request), number=target_number
        )
        services.ticket_merge(
            tenant=request.tenant,
            actor=actor_for(request),
            source_id=ticket.pk,
            target_id=target.pk,
        )
    except Ticket.DoesNotExist:
        return _main(request, number, 400, merge_error=f"There is no ticket #{target_number}.")
    except (PermissionDenied, TicketClosedError) as exc:
        code = 403 if isinstance(exc, PermissionDenied) else 409
        return _main(request, number, code, merge_error=str(exc))
    except ValidationError as exc:
        return _main(request, number, 400, merge_error=" ".join(exc.messages))
    target_url = reverse(
        "workspace:agent_ticket",
        kwargs={"tenant_slug": request.tenant.slug, "number": target_number},
    )
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target_url
        return response
    return redirect(target_url)


_INLINE_ATTACHMENT = re.compile(r'<img src="/[\w-]+/agent/attachments/(\d+)/\?preview=1"')


def inline_attachment_ids(body_html: str) -> set[int]:
    return {int(found) for found in _INLINE_ATTACHMENT.findall(body_html)}


@staff_required
@require_POST
def ticket_upload(request: TenantRequest, number: int) -> HttpResponse:
    """An image pasted or dropped into the composer: stored as a file of the ticket and
    answered with the address the editor shows it from (JSON). The message it is sent in
    claims it (``attachments_claim``), so it then shares that message's visibility."""
    ticket = _ticket(request, number)
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "Send one file."}, status=400)
    try:
        with transaction.atomic():
            attachment = attachments.attachment_create(
                tenant=request.tenant,
                actor=actor_for(request),
                ticket_id=ticket.pk,
                upload=upload,
                filename=upload.name or "image",
                size=upload.size or 0,
                pending=True,
            )
            if attachment.content_type not in PREVIEW_TYPES:
                raise ValidationError("Only PNG, JPEG, GIF or WebP images can be shown inline.")
    except (PermissionDenied, TicketClosedError) as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    url = reverse(
        "workspace:agent_attachment",
        kwargs={"tenant_slug": request.tenant.slug, "attachment_id": attachment.pk},
    )
    return JsonResponse(
        {"id": attachment.pk, "url": f"{url}?preview=1", "filename": attachment.filename},
        status=201,
    )


@staff_required
def attachment_download(request: TenantRequest, attachment_id: int) -> HttpResponse:
    """A download; ``?preview=1`` shows a raster image inline (for the conversation's
    thumbnails). Anything else is never rendered in the page's origin."""
    try:
        attachment = selectors.attachment_get(
            tenant=request.tenant, actor=actor_for(request), attachment_id=attachment_id
        )
        stored = attachments.attachment_open(attachment)
    except (Attachment.DoesNotExist, FileNotFoundError) as exc:
        raise Http404("No such file.") from exc
    if request.GET.get("preview") == "1" and attachment.content_type == PDF_TYPE:
        return _pdf_preview(stored)
    preview = request.GET.get("preview") == "1" and attachment.content_type in PREVIEW_TYPES
    response = sandboxed_file_response(
        stored,
        as_attachment=not preview,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    # A streaming response; the access decorators are typed for HttpResponse views.
    return cast(HttpResponse, response)


def _pdf_preview(stored: IO[bytes]) -> HttpResponse:
    """The first page of a PDF as a PNG (drawn in a child process: tickets.pdf_preview)."""
    with stored:
        data = stored.read(pdf_preview.MAX_INPUT_BYTES + 1)
    try:
        png = pdf_preview.pdf_first_page_png(data)
    except pdf_preview.PreviewError as exc:
        raise Http404("This file has no preview.") from exc
    response = HttpResponse(png, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # A file never changes under its id: the browser draws each preview once.
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response
