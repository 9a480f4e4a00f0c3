"""Contacts and companies API (thin: parse -> selector/service -> schema)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from autocrm.core.actors import Actor
from autocrm.core.api import Cursor, Limit, get_or_404, keyset_response, page_of, tenant_and_actor
from autocrm.core.models import Tenant
from autocrm.crm import duplicates, selectors, services
from autocrm.crm.models import Company, Contact
from autocrm.crm.schemas import (
    CompanyDuplicateOut,
    CompanyIn,
    CompanyListFilters,
    CompanyOut,
    CompanyUpdateIn,
    ContactDuplicateOut,
    ContactIn,
    ContactListFilters,
    ContactOut,
    ContactUpdateIn,
    RecordMergeIn,
)
from autocrm.crm.services import PhoneInput

router = Router(tags=["contacts"])


def _tags(value: str | None) -> list[str]:
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


def _phones(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("phones") is not None:
        values["phones"] = [PhoneInput(**p) for p in values["phones"]]
    return values


def _contact(tenant: Tenant, actor: Actor, contact_id: int) -> Contact:
    return get_or_404(
        selectors.contact_get(tenant=tenant, actor=actor, contact_id=contact_id), "contact"
    )


def _company(tenant: Tenant, actor: Actor, company_id: int) -> Company:
    return get_or_404(
        selectors.company_get(tenant=tenant, actor=actor, company_id=company_id), "company"
    )


@router.get("/contacts", response=page_of(ContactOut), summary="List or search contacts")
def contacts_list(
    request: HttpRequest,
    params: Query[ContactListFilters],
    cursor: str | None = Cursor,
    limit: int = Limit,
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    filters = selectors.ContactFilters(
        q=params.q, company_id=params.company_id, owner=params.owner or "", tags=_tags(params.tag)
    )
    ordering = selectors.CONTACT_ORDERINGS[params.sort]
    page = selectors.ListPage(ordering, cursor, limit)
    rows = selectors.contact_list_detailed(tenant=tenant, actor=actor, filters=filters, page=page)
    return keyset_response(rows, ordering=ordering, cursor=cursor, limit=limit)


@router.post("/contacts", response={201: ContactOut}, summary="Create a contact")
def contacts_create(request: HttpRequest, payload: ContactIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "write")
    contact = services.contact_create(tenant=tenant, actor=actor, **_phones(payload.model_dump()))
    return Status(201, _contact(tenant, actor, contact.pk))


@router.get("/contacts/{contact_id}", response=ContactOut, summary="Get a contact")
def contacts_get(request: HttpRequest, contact_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _contact(tenant, actor, contact_id)


@router.patch("/contacts/{contact_id}", response=ContactOut, summary="Change a contact")
def contacts_update(request: HttpRequest, contact_id: int, payload: ContactUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    contact = services.contact_update(
        tenant=tenant,
        actor=actor,
        contact=_contact(tenant, actor, contact_id),
        changes=_phones(payload.model_dump(exclude_unset=True)),
    )
    return _contact(tenant, actor, contact.pk)


@router.delete("/contacts/{contact_id}", response={204: None}, summary="Delete a contact")
def contacts_delete(request: HttpRequest, contact_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.contact_delete(tenant=tenant, actor=actor, contact=_contact(tenant, actor, contact_id))
    return Status(204, None)


@router.get(
    "/companies", response=page_of(CompanyOut), tags=["companies"], summary="List companies"
)
def companies_list(
    request: HttpRequest,
    params: Query[CompanyListFilters],
    cursor: str | None = Cursor,
    limit: int = Limit,
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    filters = selectors.CompanyFilters(
        q=params.q, owner=params.owner or "", tags=_tags(params.tag), parent_id=params.parent_id
    )
    rows = selectors.company_list(tenant=tenant, actor=actor, filters=filters)
    ordering = selectors.COMPANY_ORDERINGS[params.sort]
    return keyset_response(rows, ordering=ordering, cursor=cursor, limit=limit)


@router.post(
    "/companies", response={201: CompanyOut}, tags=["companies"], summary="Create a company"
)
def companies_create(request: HttpRequest, payload: CompanyIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "write")
    company = services.company_create(tenant=tenant, actor=actor, **payload.model_dump())
    return Status(201, _company(tenant, actor, company.pk))


@router.get(
    "/companies/{company_id}", response=CompanyOut, tags=["companies"], summary="Get a company"
)
def companies_get(request: HttpRequest, company_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _company(tenant, actor, company_id)


@router.patch(
    "/companies/{company_id}",
    response=CompanyOut,
    tags=["companies"],
    summary="Change a company",
)
def companies_update(request: HttpRequest, company_id: int, payload: CompanyUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    company = services.company_update(
        tenant=tenant,
        actor=actor,
        company=_company(tenant, actor, company_id),
        changes=payload.model_dump(exclude_unset=True),
    )
    return _company(tenant, actor, company.pk)


@router.delete(
    "/companies/{company_id}",
    response={204: None},
    tags=["companies"],
    summary="Delete a company",
)
def companies_delete(request: HttpRequest, company_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.company_delete(tenant=tenant, actor=actor, company=_company(tenant, actor, company_id))
    return Status(204, None)


@router.get(
    "/contacts/{contact_id}/duplicates",
    response=list[ContactDuplicateOut],
    summary="Possible duplicates of a contact",
    description="Contacts reaching the same mailbox, sharing a phone number, or with a "
    "similar name; the likeliest first, at most 10.",
)
def contacts_duplicates(request: HttpRequest, contact_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    contact = _contact(tenant, actor, contact_id)
    found = duplicates.contact_duplicates(tenant=tenant, actor=actor, contact=contact)
    ids = [c.record.pk for c in found]
    detailed = {
        c.pk: c
        for c in selectors.contact_list_detailed(tenant=tenant, actor=actor).filter(pk__in=ids)
    }
    for candidate in found:
        candidate.record = detailed[candidate.record.pk]
    return found


@router.post(
    "/contacts/{contact_id}/merge",
    response=ContactOut,
    summary="Merge a duplicate into this contact",
    description="Tickets, messages, activities, deals, emails, phones and companies of the "
    "duplicate move to this contact; the duplicate is deleted; `contact.merged` records it.",
)
def contacts_merge(request: HttpRequest, contact_id: int, payload: RecordMergeIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    keep = _contact(tenant, actor, contact_id)
    duplicate = _contact(tenant, actor, payload.duplicate_id)
    services.contact_merge(tenant=tenant, actor=actor, keep=keep, duplicate=duplicate)
    return _contact(tenant, actor, keep.pk)


@router.get(
    "/companies/{company_id}/duplicates",
    response=list[CompanyDuplicateOut],
    tags=["companies"],
    summary="Possible duplicates of a company",
)
def companies_duplicates(request: HttpRequest, company_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    company = _company(tenant, actor, company_id)
    return duplicates.company_duplicates(tenant=tenant, actor=actor, company=company)


@router.post(
    "/companies/{company_id}/merge",
    response=CompanyOut,
    tags=["companies"],
    summary="Merge a duplicate into this company",
)
def companies_merge(request: HttpRequest, company_id: int, payload: RecordMergeIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    keep = _company(tenant, actor, company_id)
    duplicate = _company(tenant, actor, payload.duplicate_id)
    services.company_merge(tenant=tenant, actor=actor, keep=keep, duplicate=duplicate)
    return _company(tenant, actor, keep.pk)
