"""CRM pages of the workspace under ``/<tenant>/agent/``: contact and company lists (filters,
search, keyset "show more"), a contact's and a company's page with their timeline and an
edit form. Thin: forms parse, selectors read, services write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, staff_required
from autocrm.core.api.pagination import keyset_page
from autocrm.core.problems import InvalidInput
from autocrm.crm import (
    duplicates,
    selectors,
    selectors_activities,
    selectors_deals,
    services,
    timeline,
)
from autocrm.crm.forms import (
    CompanyFilterForm,
    CompanyForm,
    ContactFilterForm,
    ContactForm,
    split_words,
)
from autocrm.crm.models import Company, Contact
from autocrm.workspace.common import actor_for, assignable_agents, found_or_404, is_htmx

PAGE_SIZE = 50
RECORD_DEALS = 20  # the newest deals of a contact or company on its page
RECORD_ACTIVITIES = 30
CHOICE_LIMIT = 500  # companies offered in a select; more are reached by search


def _company_choices(request: TenantRequest, *keep: int | None) -> list[tuple[int, str]]:
    rows = selectors.company_list(tenant=request.tenant, actor=actor_for(request)).order_by(
        "name", "id"
    )
    choices = [(c.pk, c.name) for c in rows[:CHOICE_LIMIT]]
    missing = [k for k in keep if k and k not in {pk for pk, _ in choices}]
    if missing:
        extra = selectors.company_list(tenant=request.tenant, actor=actor_for(request))
        choices += [(c.pk, c.name) for c in extra.filter(pk__in=missing)]
    return choices


def _apply_errors(form: Any, exc: ValidationError) -> None:
    mapping = {
        "email": "email",
        "emails": "other_emails",
        "phones": "phones",
        "company_id": "company",
        "company_ids": "company",
        "owner_id": "owner",
        "tags": "tags",
        "domains": "domains",
        "parent_id": "parent",
        "name": "name",
    }
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        target = mapping.get(field)
        form.add_error(target if target in form.fields else None, errors)


def _sales_context(
    request: TenantRequest, *, contact_id: int | None = None, company_id: int | None = None
) -> dict[str, Any]:
    """The deals and activities of a contact or a company, and the form that adds an
    activity to it."""
    from autocrm.crm.views_deals import activity_form

    actor = actor_for(request)
    deals = selectors_deals.deal_list(
        tenant=request.tenant,
        actor=actor,
        filters=selectors_deals.DealFilters(contact_id=contact_id, company_id=company_id),
    ).order_by("-created_at", "-id")[:RECORD_DEALS]
    activities = selectors_activities.activity_list(
        tenant=request.tenant,
        actor=actor,
        filters=selectors_activities.ActivityFilters(contact_id=contact_id, company_id=company_id),
    ).order_by("done_at", "due_at", "-created_at")[:RECORD_ACTIVITIES]
    return {
        "deals": list(deals),
        "activities": list(activities),
        "activity_form": activity_form(
            request, next=request.path, contact=contact_id, company=company_id
        ),
    }


def _page(rows: Any, ordering: tuple[str, ...], cursor: str) -> tuple[list[Any], str | None, str]:
    try:
        page = keyset_page(rows, ordering=ordering, cursor=cursor or None, limit=PAGE_SIZE)
    except InvalidInput:
        return [], None, "This page link is out of date; start again from the first page."
    return list(page.items), page.next_cursor, ""


def _timeline(
    request: TenantRequest, read: Callable[[timeline.Cursor | None], timeline.Page]
) -> tuple[dict[str, Any], int]:
    """The record's timeline: its newest entries, or those older than ``?before=`` (the
    cursor of its "Show more" link), and that link's cursor for the page after."""
    cursor = None
    if before := request.GET.get("before"):
        try:
            cursor = timeline.Cursor.parse(before)
        except timeline.CursorError as exc:
            return {"timeline": [], "timeline_error": str(exc), "timeline_older": True}, 400
    page = read(cursor)
    return {
        "timeline": page.entries,
        "timeline_more": str(page.next_cursor or ""),
        "timeline_older": cursor is not None,
    }, 200


def _timeline_entries(request: TenantRequest, context: dict[str, Any], status: int) -> HttpResponse:
    """The next page of a timeline for its "Show more" button (htmx): the entries and the
    button for the page after, in place of the button that asked."""
    return render(request, "workspace/crm/_timeline_entries.html", context, status=status)


@staff_required
def contact_list(request: TenantRequest) -> HttpResponse:
    actor = actor_for(request)
    agents = assignable_agents(request)
    form = ContactFilterForm(request.GET or None, owners=agents)
    rows: list[Contact] = []
    next_cursor: str | None = None
    error = ""
    if form.is_bound and not form.is_valid():
        error = "Check the filters."
    else:
        data = form.cleaned_data if form.is_bound else {}
        filters = selectors.ContactFilters(
            q=data.get("q") or "",
            owner=data.get("owner") or "",
            tags=[t.lower() for t in split_words(data.get("tag") or "")],
            company_id=data.get("company"),
        )
        ordering = selectors.CONTACT_ORDERINGS[data.get("sort") or "name"]
        cursor = data.get("cursor") or ""
        contacts = selectors.contact_list(
            tenant=request.tenant,
            actor=actor,
            filters=filters,
            page=selectors.ListPage(ordering, cursor or None, PAGE_SIZE),
        )
        rows, next_cursor, error = _page(contacts, ordering, cursor)
    context = {
        "form": form,
        "rows": rows,
        "next_cursor": next_cursor,
        "error": error,
        "query": request.GET.copy(),
        "can_edit": actor.role != "light_agent",
        "new_form": ContactForm(owners=agents, companies=[]),
    }
    return render(request, "workspace/crm/contacts.html", context, status=400 if error else 200)


def _contact(request: TenantRequest, contact_id: int) -> Contact:
    return found_or_404(
        selectors.contact_get(
            tenant=request.tenant, actor=actor_for(request), contact_id=contact_id
        ),
        "No such contact.",
    )


def _contact_initial(contact: Contact) -> dict[str, Any]:
    emails = sorted(e.email for e in contact.emails.all() if e.email != contact.email)
    phones = sorted(contact.phones.all(), key=lambda p: (p.number != contact.phone, p.pk))
    return {
        "name": contact.name,
        "email": contact.email,
        "other_emails": "\n".join(emails),
        "phones": "\n".join(f"{p.number}, {p.label}" if p.label else p.number for p in phones),
        "title": contact.title,
        "locale": contact.locale,
        "company": contact.company_id,
        "owner": contact.owner_id,
        "tags": " ".join(contact.tags),
        "consent_email": contact.consent_email,
        "consent_sms": contact.consent_sms,
        "consent_phone": contact.consent_phone,
    }


@staff_required
def contact_page(request: TenantRequest, contact_id: int) -> HttpResponse:
    actor = actor_for(request)
    contact = _contact(request, contact_id)

    def read(cursor: timeline.Cursor | None) -> timeline.Page:
        return timeline.contact_timeline(
            tenant=request.tenant, actor=actor, contact=contact, cursor=cursor
        )

    if is_htmx(request) and "before" in request.GET:
        return _timeline_entries(request, *_timeline(request, read))
    companies = _company_choices(request, contact.company_id)
    form = ContactForm(
        initial=_contact_initial(contact), owners=assignable_agents(request), companies=companies
    )
    status = 200
    if request.method == "POST":
        form = ContactForm(request.POST, owners=assignable_agents(request), companies=companies)
        if form.is_valid():
            try:
                services.contact_update(
                    tenant=request.tenant, actor=actor, contact=contact, changes=form.changes()
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("workspace:crm_contact", request.tenant.slug, contact.pk)
        status = 400
    history, history_status = _timeline(request, read)
    context = {
        "contact": contact,
        "form": form,
        **history,
        "duplicates": duplicates.contact_duplicates(
            tenant=request.tenant, actor=actor, contact=contact
        ),
        "can_edit": actor.role != "light_agent",
        "edit_open": status == 400,
        **_sales_context(request, contact_id=contact.pk),
    }
    return render(
        request, "workspace/crm/contact.html", context, status=max(status, history_status)
    )


@staff_required
@require_POST
def contact_create(request: TenantRequest) -> HttpResponse:
    form = ContactForm(request.POST, owners=assignable_agents(request), companies=[])
    if form.is_valid():
        changes = form.changes()
        try:
            contact = services.contact_create(
                tenant=request.tenant, actor=actor_for(request), **changes
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("workspace:crm_contact", request.tenant.slug, contact.pk)
    return render(request, "workspace/crm/contact_new.html", {"new_form": form}, status=400)


@staff_required
def company_list(request: TenantRequest) -> HttpResponse:
    actor = actor_for(request)
    agents = assignable_agents(request)
    form = CompanyFilterForm(request.GET or None, owners=agents)
    rows: list[Company] = []
    next_cursor: str | None = None
    error = ""
    if form.is_bound and not form.is_valid():
        error = "Check the filters."
    else:
        data = form.cleaned_data if form.is_bound else {}
        filters = selectors.CompanyFilters(
            q=data.get("q") or "",
            owner=data.get("owner") or "",
            tags=[t.lower() for t in split_words(data.get("tag") or "")],
        )
        companies = selectors.company_list(tenant=request.tenant, actor=actor, filters=filters)
        rows, next_cursor, error = _page(
            companies, selectors.COMPANY_ORDERINGS["name"], data.get("cursor") or ""
        )
    context = {
        "form": form,
        "rows": rows,
        "next_cursor": next_cursor,
        "error": error,
        "query": request.GET.copy(),
        "can_edit": actor.role != "light_agent",
        "new_form": CompanyForm(owners=agents, companies=[]),
    }
    return render(request, "workspace/crm/companies.html", context, status=400 if error else 200)


def _company(request: TenantRequest, company_id: int) -> Company:
    return found_or_404(
        selectors.company_get(
            tenant=request.tenant, actor=actor_for(request), company_id=company_id
        ),
        "No such company.",
    )


@staff_required
def company_page(request: TenantRequest, company_id: int) -> HttpResponse:
    actor = actor_for(request)
    company = _company(request, company_id)

    def read(cursor: timeline.Cursor | None) -> timeline.Page:
        return timeline.company_timeline(
            tenant=request.tenant, actor=actor, company=company, cursor=cursor
        )

    if is_htmx(request) and "before" in request.GET:
        return _timeline_entries(request, *_timeline(request, read))
    choices = [c for c in _company_choices(request, company.parent_id) if c[0] != company.pk]
    domains = sorted(d.domain for d in company.domains.all() if d.domain != company.domain)
    initial = {
        "name": company.name,
        "domains": " ".join([company.domain, *domains] if company.domain else domains),
        "parent": company.parent_id,
        "owner": company.owner_id,
        "tags": " ".join(company.tags),
    }
    form = CompanyForm(initial=initial, owners=assignable_agents(request), companies=choices)
    status = 200
    if request.method == "POST":
        form = CompanyForm(request.POST, owners=assignable_agents(request), companies=choices)
        if form.is_valid():
            try:
                services.company_update(
                    tenant=request.tenant, actor=actor, company=company, changes=form.changes()
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("workspace:crm_company", request.tenant.slug, company.pk)
        status = 400
    history, history_status = _timeline(request, read)
    context = {
        "company": company,
        "form": form,
        "contacts": list(
            selectors.company_contacts(tenant=request.tenant, actor=actor, company=company)[:100]
        ),
        "subsidiaries": list(
            selectors.company_subsidiaries(tenant=request.tenant, actor=actor, company=company)
        ),
        **history,
        "duplicates": duplicates.company_duplicates(
            tenant=request.tenant, actor=actor, company=company
        ),
        "can_edit": actor.role != "light_agent",
        "edit_open": status == 400,
        **_sales_context(request, company_id=company.pk),
    }
    return render(
        request, "workspace/crm/company.html", context, status=max(status, history_status)
    )


@staff_required
@require_POST
def company_create(request: TenantRequest) -> HttpResponse:
    form = CompanyForm(request.POST, owners=assignable_agents(request), companies=[])
    if form.is_valid():
        try:
            company = services.company_create(
                tenant=request.tenant, actor=actor_for(request), **form.changes()
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("workspace:crm_company", request.tenant.slug, company.pk)
    return render(request, "workspace/crm/company_new.html", {"new_form": form}, status=400)


def _merge_target(request: TenantRequest) -> int | None:
    value = request.POST.get("duplicate", "")
    return int(value) if value.isdigit() and int(value) < 2**63 else None


@staff_required
@require_POST
def contact_merge(request: TenantRequest, contact_id: int) -> HttpResponse:
    """Merge the posted duplicate into this contact (the page's "Possible duplicates")."""
    keep = _contact(request, contact_id)
    duplicate_id = _merge_target(request)
    duplicate = _contact(request, duplicate_id) if duplicate_id else None
    if duplicate is None:
        raise Http404("No such contact.")
    try:
        services.contact_merge(
            tenant=request.tenant, actor=actor_for(request), keep=keep, duplicate=duplicate
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"Merged {duplicate.display_name} into this contact.")
    return redirect("workspace:crm_contact", request.tenant.slug, keep.pk)


@staff_required
@require_POST
def company_merge(request: TenantRequest, company_id: int) -> HttpResponse:
    keep = _company(request, company_id)
    duplicate_id = _merge_target(request)
    duplicate = _company(request, duplicate_id) if duplicate_id else None
    if duplicate is None:
        raise Http404("No such company.")
    try:
        services.company_merge(
            tenant=request.tenant, actor=actor_for(request), keep=keep, duplicate=duplicate
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"Merged {duplicate.name} into this company.")
    return redirect("workspace:crm_company", request.tenant.slug, keep.pk)
