"""Writes of companies: create, change (domains, parent, owner, tags, custom fields), delete.

A company's domains link contacts: a new contact whose email is at one of them gets the
company (contacts.company_for_email), and adding a domain links the existing contacts at
it that have no company yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString

from django.db import transaction
from django.utils import timezone

from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.events import EventDraft, event_append, event_append_many
from autocrm.core.models import Tenant
from autocrm.crm import access, events
from autocrm.crm.models import Company, CompanyDomain, Contact, ContactCompany
from autocrm.crm.normalize import clean_domain
from autocrm.crm.services.common import (
    clean_owner_tags_fields,
    field_error,
)

MAX_DEPTH = 10  # parent chains deeper than this are refused (and cycles never form)


def _clean_domains(tenant: Tenant, company: Company | None, domains: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in domains:
        try:
            domain = clean_domain(raw)
        except ValueError as exc:
            raise field_error("domains", str(exc)) from exc
        if domain not in cleaned:
            cleaned.append(domain)
    taken = CompanyDomain.objects.filter(tenant=tenant, domain__in=cleaned)
    if company is not None:
        taken = taken.exclude(company=company)
    other = taken.select_related("company").first()
    if other is not None:
        raise field_error("domains", f"{other.domain} belongs to {other.company.name}.")
    return cleaned


def _clean_parent(tenant: Tenant, company: Company | None, parent_id: int | None) -> Company | None:
    if parent_id is None:
        return None
    parent = Company.objects.filter(tenant=tenant, pk=parent_id).first()
    if parent is None:
        raise field_error("parent_id", f"No company with id {parent_id}.")
    node: Company | None = parent
    for _ in range(MAX_DEPTH):
        if node is None:
            return parent
        if company is not None and node.pk == company.pk:
            raise field_error("parent_id", "A company cannot be its own ancestor.")
        node = node.parent
    raise field_error("parent_id", f"Hierarchies are at most {MAX_DEPTH} levels deep.")


def _domains_set(tenant: Tenant, company: Company, domains: list[str]) -> list[str]:
    """Store exactly ``domains``; returns the ones that are new (to link contacts at)."""
    CompanyDomain.objects.filter(tenant=tenant, company=company).exclude(
        domain__in=domains
    ).delete()
    have = set(
        CompanyDomain.objects.filter(tenant=tenant, company=company).values_list(
            "domain", flat=True
        )
    )
    new = [d for d in domains if d not in have]
    CompanyDomain.objects.bulk_create(
        [CompanyDomain(tenant=tenant, company=company, domain=d) for d in new]
    )
    company.domain = domains[0] if domains else ""
    return new


def _link_contacts_at(tenant: Tenant, company: Company, domains: list[str]) -> int:
    """Contacts without a company whose primary email is at one of ``domains`` join it."""
    linked = 0
    for domain in domains:
        ids = list(
            Contact.objects.filter(
                tenant=tenant, company=None, email__endswith=f"@{domain}"
            ).values_list("id", flat=True)
        )
        if not ids:
            continue
        Contact.objects.filter(tenant=tenant, pk__in=ids).update(company=company)
        ContactCompany.objects.bulk_create(
            [ContactCompany(tenant=tenant, contact_id=i, company=company) for i in ids],
            ignore_conflicts=True,
        )
        linked += len(ids)
    return linked


def _clean(tenant: Tenant, company: Company | None, values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in values:
        name = str(values["name"]).strip()[:200]
        if not name:
            raise field_error("name", "A company needs a name.")
        out["name"] = name
    if "parent_id" in values:
        out["parent"] = _clean_parent(tenant, company, values["parent_id"])
    out.update(clean_owner_tags_fields(tenant, values))
    return out


@transaction.atomic
def company_create(
    *,
    tenant: Tenant,
    actor: Actor,
    name: str,
    domains: Sequence[str] = (),
    parent_id: int | None = None,
    owner_id: int | None = None,
    tags: Sequence[str] = (),
    custom_fields: dict[str, Any] | None = None,
) -> Company:
    access.require_edit(actor)
    values = _clean(
        tenant,
        None,
        {
            "name": name,
            "parent_id": parent_id,
            "owner_id": owner_id,
            "tags": list(tags),
            "custom_fields": custom_fields or {},
        },
    )
    cleaned = _clean_domains(tenant, None, domains)
    company = Company.objects.create(tenant=tenant, **values)
    _domains_set(tenant, company, cleaned)
    company.save(update_fields=["domain"])
    linked = _link_contacts_at(tenant, company, cleaned)
    event_append(
        tenant=tenant,
        type=events.COMPANY_CREATED,
        subject=company,
        actor=actor,
        payload={
            "name": company.name,
            "domains": cleaned,
            "parent_id": company.parent_id,
            "contacts_linked": linked,
        },
    )
    return company


_INSERT_NAMED: LiteralString = """
INSERT INTO crm_company (tenant_id, name, domain, created_at, updated_at)
SELECT %(tenant)s::bigint, r.name, '', %(now)s::timestamptz, %(now)s::timestamptz
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(name text)
RETURNING id, name
"""


@transaction.atomic
def company_create_many(
    *, tenant: Tenant, actor: Actor, names: Sequence[str]
) -> list[tuple[int, str]]:
    """New companies with just a name (an import's Company column), in one statement, each
    with its company.created event as ``company_create`` appends it; (id, name) each."""
    access.require_edit(actor)
    cleaned = [str(name).strip()[:200] for name in names]
    if any(not name for name in cleaned):
        raise field_error("name", "A company needs a name.")
    if not cleaned:
        return []
    made = [
        (pk, name)
        for pk, name in sql.fetch_bulk(
            _INSERT_NAMED,
            {
                "tenant": tenant.pk,
                "now": timezone.now(),
                "rows": sql.json_rows([{"name": n} for n in cleaned]),
            },
        )
    ]
    event_append_many(
        tenant=tenant,
        actor=actor,
        drafts=[
            EventDraft(
                events.COMPANY_CREATED,
                (Company._meta.label_lower, pk),
                {"name": name, "domains": [], "parent_id": None, "contacts_linked": 0},
            )
            for pk, name in made
        ],
    )
    return made


def _snapshot(company: Company) -> dict[str, Any]:
    return {
        "name": company.name,
        "domains": sorted(company.domains.values_list("domain", flat=True)),
        "parent_id": company.parent_id,
        "owner_id": company.owner_id,
        "tags": company.tags,
        "custom_fields": company.custom_fields,
    }


@transaction.atomic
def company_update(
    *, tenant: Tenant, actor: Actor, company: Company, changes: dict[str, Any]
) -> Company:
    access.require_edit(actor)
    company = Company.objects.select_for_update().get(tenant=tenant, pk=company.pk)
    before = _snapshot(company)
    for field, value in _clean(tenant, company, changes).items():
        setattr(company, field, value)
    linked = 0
    if "domains" in changes:
        new = _domains_set(tenant, company, _clean_domains(tenant, company, changes["domains"]))
        linked = _link_contacts_at(tenant, company, new)
    company.save()
    after = _snapshot(company)
    diff = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if diff:
        payload: dict[str, Any] = {"changes": diff}
        if linked:
            payload["contacts_linked"] = linked
        event_append(
            tenant=tenant,
            type=events.COMPANY_UPDATED,
            subject=company,
            actor=actor,
            payload=payload,
        )
    return company


@transaction.atomic
def company_delete(*, tenant: Tenant, actor: Actor, company: Company) -> None:
    """Delete a company; its contacts, tickets and subsidiaries stay, without it."""
    access.require_admin(actor)
    event_append(
        tenant=tenant,
        type=events.COMPANY_DELETED,
        subject=company,
        actor=actor,
        payload={"name": company.name, "domain": company.domain},
    )
    company.delete()
