"""Every read of contacts and companies for pages and the API: tenant-scoped, staff only.

Lists return querysets in no order; the caller pages them with ``core.api.keyset_page`` and
one of the ``*_ORDERINGS`` (each ends with the id, and has an index starting with tenant).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from autocrm.core.actors import Actor
from autocrm.core.api.pagination import page_position
from autocrm.core.models import Tenant
from autocrm.core.problems import InvalidInput
from autocrm.crm import access
from autocrm.crm.contact_search import SearchPage, contact_search_q
from autocrm.crm.models import (
    Company,
    CompanyDomain,
    Contact,
    ContactCompany,
    ContactEmail,
    ContactImport,
    Segment,
    SegmentMember,
)

CONTACT_ORDERINGS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-created_at": ("-created_at", "-id"),
}
COMPANY_ORDERINGS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-created_at": ("-created_at", "-id"),
}
TYPO_THRESHOLD = "0.5"


@dataclass
class ContactFilters:
    """What a contact list is narrowed by (the API's query parameters, a page's form, a
    saved segment). ``q`` matches names and emails loosely (trigram word similarity), an
    email exactly, a phone number by its E.164 form."""

    q: str = ""
    company_id: int | None = None
    owner: str = ""  # a user id, "me" or "none"
    tags: list[str] = field(default_factory=list)
    consent_email: bool | None = None
    ids: list[int] | None = None
    segment_id: int | None = None  # a static segment's members


@dataclass(frozen=True)
class ListPage:
    """The page the caller will cut from a list (with ``keyset_page``): a search told it
    fetches that page's worth of matches instead of all of them (ADR 0055)."""

    ordering: Sequence[str]
    cursor: str | None
    limit: int


def _search_page(f: ContactFilters, page: ListPage | None) -> SearchPage | None:
    """The page for the search alone: the list by name, narrowed by ``q`` and nothing else
    (another filter could leave fewer rows than a page among the search's first ones)."""
    if page is None or tuple(page.ordering) != CONTACT_ORDERINGS["name"]:
        return None
    if f != ContactFilters(q=f.q):
        return None
    try:
        values, rows = page_position(Contact, page.ordering, page.cursor, page.limit)
    except InvalidInput:
        return None  # keyset_page refuses the cursor
    return SearchPage(after=(values[0], values[1]) if values else None, rows=rows)


@dataclass
class CompanyFilters:
    q: str = ""
    owner: str = ""
    tags: list[str] = field(default_factory=list)
    parent_id: int | None = None


def _owner_q(owner: str, actor: Actor) -> Q:
    if owner == "me":
        return Q(owner_id=actor.user.pk) if actor.user else Q(pk__in=[])
    if owner == "none":
        return Q(owner=None)
    if owner.isdigit():
        return Q(owner_id=int(owner))
    return Q()


def typo_tolerance_set() -> None:
    """Word similarity of 0.5 instead of pg_trgm's 0.6: one letter missing from a
    seven-letter surname ("beronga" for "Bertonga") scores 0.55. Local to the transaction
    (the request's), like tickets.text_search does for subjects."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [TYPO_THRESHOLD]
        )


def contact_list(
    *,
    tenant: Tenant,
    actor: Actor,
    filters: ContactFilters | None = None,
    page: ListPage | None = None,
) -> QuerySet[Contact]:
    """The contacts ``filters`` match; with ``page`` (the page the caller will cut), possibly
    only those that can be on that page."""
    access.require_read(actor)
    f = filters or ContactFilters()
    contacts = (
        Contact.objects.filter(tenant=tenant)
        .select_related("company", "owner")
        .defer("search_words")  # what search reads, never shown
    )
    if f.q.strip():
        # A search sorts every match (thousands for a prefix) before it cuts the page; the
        # company and owner are read for the page's rows then, not joined to every match.
        contacts = (
            contacts.select_related(None)
            .prefetch_related("company", "owner")
            .filter(contact_search_q(tenant, f.q, _search_page(f, page)))
        )
    if f.company_id is not None:
        members = ContactCompany.objects.filter(tenant=tenant, company_id=f.company_id)
        contacts = contacts.filter(pk__in=members.values("contact_id"))
    if f.owner:
        contacts = contacts.filter(_owner_q(f.owner, actor))
    if f.tags:
        contacts = contacts.filter(tags__contains=f.tags)
    if f.consent_email is not None:
        contacts = contacts.filter(consent_email=f.consent_email)
    if f.ids is not None:
        contacts = contacts.filter(pk__in=f.ids)
    if f.segment_id is not None:
        listed = SegmentMember.objects.filter(tenant=tenant, segment_id=f.segment_id)
        contacts = contacts.filter(pk__in=listed.values("contact_id"))
    return contacts


def contact_list_detailed(
    *,
    tenant: Tenant,
    actor: Actor,
    filters: ContactFilters | None = None,
    page: ListPage | None = None,
) -> QuerySet[Contact]:
    """``contact_list`` with every email, phone and company (API items): 3 more queries a
    page, whatever its size."""
    return contact_list(tenant=tenant, actor=actor, filters=filters, page=page).prefetch_related(
        "emails",
        "phones",
        Prefetch(
            "memberships", queryset=ContactCompany.objects.select_related("company").order_by("id")
        ),
    )


def contact_get(*, tenant: Tenant, actor: Actor, contact_id: int) -> Contact | None:
    return contact_list_detailed(tenant=tenant, actor=actor).filter(pk=contact_id).first()


def contact_for_email(*, tenant: Tenant, actor: Actor, email: str) -> Contact | None:
    """The contact with this address (any of theirs), as the ticket sidebar looks it up."""
    access.require_read(actor)
    email = email.strip().lower()
    rows = ContactEmail.objects.filter(tenant=tenant, email=email).values("contact_id")
    return contact_list_detailed(tenant=tenant, actor=actor).filter(pk__in=rows).first()


def company_list(
    *, tenant: Tenant, actor: Actor, filters: CompanyFilters | None = None
) -> QuerySet[Company]:
    access.require_read(actor)
    f = filters or CompanyFilters()
    companies = Company.objects.filter(tenant=tenant).select_related("parent", "owner")
    q = f.q.strip().lower()
    if q:
        by_domain = list(
            CompanyDomain.objects.filter(tenant=tenant, domain=q).values_list(
                "company_id", flat=True
            )
        )
        companies = companies.filter(Q(name__trigram_word_similar=q) | Q(pk__in=by_domain))
    if f.owner:
        companies = companies.filter(_owner_q(f.owner, actor))
    if f.tags:
        companies = companies.filter(tags__contains=f.tags)
    if f.parent_id is not None:
        companies = companies.filter(parent_id=f.parent_id)
    return companies.prefetch_related("domains")


def company_get(*, tenant: Tenant, actor: Actor, company_id: int) -> Company | None:
    return company_list(tenant=tenant, actor=actor).filter(pk=company_id).first()


def company_subsidiaries(*, tenant: Tenant, actor: Actor, company: Company) -> QuerySet[Company]:
    return company_list(tenant=tenant, actor=actor).filter(parent=company).order_by("name", "id")


def company_contacts(*, tenant: Tenant, actor: Actor, company: Company) -> QuerySet[Contact]:
    return contact_list(
        tenant=tenant, actor=actor, filters=ContactFilters(company_id=company.pk)
    ).order_by("name", "id")


SEGMENT_ORDERINGS: dict[str, tuple[str, ...]] = {"name": ("name", "id")}


def segment_list(*, tenant: Tenant, actor: Actor) -> QuerySet[Segment]:
    access.require_read(actor)
    return Segment.objects.filter(tenant=tenant).select_related("created_by")


def segment_get(*, tenant: Tenant, actor: Actor, segment_id: int) -> Segment | None:
    return segment_list(tenant=tenant, actor=actor).filter(pk=segment_id).first()


def segment_contacts(*, tenant: Tenant, actor: Actor, segment: Segment) -> QuerySet[Contact]:
    """Who is in the segment now: a saved filter's matches, or a static list's members."""
    from autocrm.crm.segment_filters import contact_filters_of

    if segment.kind == Segment.Kind.STATIC:
        filters = ContactFilters(segment_id=segment.pk)
    else:
        filters = contact_filters_of(segment.filters)
    return contact_list(tenant=tenant, actor=actor, filters=filters)


def contact_import_list(*, tenant: Tenant, actor: Actor) -> QuerySet[ContactImport]:
    access.require_read(actor)
    return ContactImport.objects.filter(tenant=tenant)


def contact_import_get(*, tenant: Tenant, actor: Actor, import_id: int) -> ContactImport | None:
    return contact_import_list(tenant=tenant, actor=actor).filter(pk=import_id).first()
