"""The customer's requests in the help centre: list, submit, read, reply, mark solved,
download a file. Thin: forms check shapes, portal.requests and the tickets layer decide."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autocrm.core.downloads import sandboxed_file_response
from autocrm.portal import requests as help_requests
from autocrm.portal import satisfaction, suggestions
from autocrm.portal.access import HelpRequest, customer_page, member_actor
from autocrm.portal.forms import CUSTOM_PREFIX, RatingForm, ReplyForm, RequestForm
from autocrm.tickets import attachments as ticket_attachments
from autocrm.tickets.errors import TicketClosedError

STATUS_FILTERS = ("open", "solved", "all")


def _add_errors(form: Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        field = CUSTOM_PREFIX + key.split(".", 1)[1] if key.startswith("custom_fields.") else key
        form.add_error(field if field in form.fields else None, errors)


@customer_page
def request_list(request: HelpRequest) -> HttpResponse:
    tenant, actor = request.tenant, member_actor(request)
    status = request.GET.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    company_allowed = help_requests.company_requests_allowed(tenant=tenant, actor=actor)
    company = company_allowed and request.GET.get("scope") == "company"
    tickets = help_requests.request_list(
        tenant=tenant, actor=actor, company=company, status=status
    )[:100]
    return render(
        request,
        "help/requests/list.html",
        {
            "tickets": tickets,
            "status": status,
            "company": company,
            "company_allowed": company_allowed,
        },
    )


@customer_page
@require_http_methods(["GET", "POST"])
def request_new(request: HelpRequest) -> HttpResponse:
    tenant = request.tenant
    fields = help_requests.customer_fields(tenant)
    form = RequestForm(request.POST or None, request.FILES or None, custom_fields=fields)
    if suggestions.knowledge_installed():
        form.fields["subject"].widget.attrs.update(
            {
                "hx-get": reverse("portal:request_suggestions", args=[tenant.slug]),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#request-suggestions",
            }
        )
    if request.method == "POST" and form.is_valid():
        try:
            ticket = help_requests.request_submit(
                tenant=tenant,
                actor=member_actor(request),
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                custom_fields=form.custom_values(),
                files=form.cleaned_data["attachments"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Request #{ticket.number} sent. We will reply by email.")
            return redirect("portal:request", tenant_slug=tenant.slug, number=ticket.number)
    return render(
        request,
        "help/requests/new.html",
        {"form": form, "max_mb": help_requests.max_file_bytes() // (1024 * 1024)},
        status=400 if form.errors else 200,
    )


def _detail_or_404(request: HelpRequest, number: int) -> help_requests.RequestDetail:
    detail = help_requests.request_get(
        tenant=request.tenant, actor=member_actor(request), number=number
    )
    if detail is None:
        raise Http404("No such request.")
    return detail


@customer_page
@require_http_methods(["GET", "POST"])
def request_detail(request: HelpRequest, number: int) -> HttpResponse:
    """The request and its public conversation; POST adds a reply (with files)."""
    detail = _detail_or_404(request, number)
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            help_requests.request_reply(
                tenant=request.tenant,
                actor=member_actor(request),
                ticket=detail.ticket,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["attachments"],
            )
        except TicketClosedError:
            form.add_error(None, "This request is closed. Please open a new one.")
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Reply sent.")
            return redirect("portal:request", tenant_slug=request.tenant.slug, number=number)
    actor = member_actor(request)
    return render(
        request,
        "help/requests/detail.html",
        {
            "detail": detail,
            "ticket": detail.ticket,
            "form": form,
            "survey": satisfaction.survey_pending(
                tenant=request.tenant, actor=actor, ticket=detail.ticket
            ),
            "rated": satisfaction.survey_last_rating(tenant=request.tenant, ticket=detail.ticket),
            "rating_form": RatingForm(),
        },
        status=400 if form.errors else 200,
    )


@customer_page
@require_POST
def request_solve(request: HelpRequest, number: int) -> HttpResponse:
    detail = _detail_or_404(request, number)
    if detail.is_open:
        try:
            help_requests.request_mark_solved(
                tenant=request.tenant, actor=member_actor(request), ticket=detail.ticket
            )
        except TicketClosedError:
            messages.error(request, "This request is closed already.")
        else:
            messages.success(request, "Marked as solved. Thanks for letting us know.")
    return redirect("portal:request", tenant_slug=request.tenant.slug, number=number)


@customer_page
def attachment_download(request: HelpRequest, attachment_id: int) -> FileResponse:
    attachment = help_requests.request_attachment_get(
        tenant=request.tenant, actor=member_actor(request), attachment_id=attachment_id
    )
    if attachment is None:
        raise Http404("No such file.")
    try:
        stored = ticket_attachments.attachment_open(attachment)
    except FileNotFoundError as exc:
        raise Http404("The file is not stored.") from exc
    return sandboxed_file_response(
        stored,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


@customer_page
@require_GET
def request_suggestions(request: HelpRequest) -> HttpResponse:
    """The articles matching the subject typed so far (an htmx partial)."""
    subject = request.GET.get("subject", "")[:200]
    found = suggestions.suggestions_for(
        tenant=request.tenant, actor=member_actor(request), subject=subject
    )
    return render(
        request, "help/requests/_suggestions.html", {"suggestions": found, "subject": subject}
    )


@customer_page
@require_GET
def request_suggestion_open(request: HelpRequest, article_id: int) -> HttpResponse:
    """Opening a suggestion counts as a deflection, then shows the article."""
    try:
        url = suggestions.deflection_record(
            tenant=request.tenant,
            actor=member_actor(request),
            article_id=article_id,
            subject=request.GET.get("subject", ""),
        )
    except LookupError as exc:
        raise Http404("No such article.") from exc
    return redirect(url)
