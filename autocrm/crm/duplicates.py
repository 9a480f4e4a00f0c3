"""Possible duplicates of a contact or a company, each with the reasons it was found.

Contacts: another contact reaching the same mailbox (``ContactEmail.canonical``: no +tag,
Gmail's dots), sharing a phone number, or with a similar name (pg_trgm similarity, the
``%`` operator, whose function is LEAKPROOF in our databases so the trigram index serves it
under row-level security). Companies: a similar name, or contacts' email domains in common.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramSimilarity

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.crm import access
from autocrm.crm.models import Company, Contact, ContactEmail, ContactPhone

LIMIT = 10
NAME_SIMILARITY = 0.5  # above pg_trgm's default 0.3 threshold: fewer, better candidates


@dataclass
class Candidate:
    record: Contact | Company
    reasons: list[str] = field(default_factory=list)
    score: float = 0.0


def contact_duplicates(*, tenant: Tenant, actor: Actor, contact: Contact) -> list[Candidate]:
    access.require_read(actor)
    found: dict[int, Candidate] = {}

    def add(ids: list[int], reason: str, score: float) -> None:
        for pk in ids:
            if pk != contact.pk:
                candidate = found.setdefault(pk, Candidate(record=contact))
                candidate.reasons.append(reason)
                candidate.score += score

    canonicals = list(
        ContactEmail.objects.filter(tenant=tenant, contact=contact).values_list(
            "canonical", flat=True
        )
    )
    for canonical in filter(None, canonicals):
        ids = ContactEmail.objects.filter(tenant=tenant, canonical=canonical).values_list(
            "contact_id", flat=True
        )
        add(list(ids[: LIMIT + 1]), f"same mailbox as {canonical}", 1.0)
    numbers = list(
        ContactPhone.objects.filter(tenant=tenant, contact=contact).values_list("number", flat=True)
    )
    for number in numbers:
        by_phone = ContactPhone.objects.filter(tenant=tenant, number=number).values_list(
            "contact_id", flat=True
        )
        add(list(by_phone[: LIMIT + 1]), f"same phone {number}", 0.9)
    if len(contact.name.strip()) >= 3:
        similar = (
            Contact.objects.filter(tenant=tenant, name__trigram_similar=contact.name)
            .annotate(similarity=TrigramSimilarity("name", contact.name))
            .filter(similarity__gte=NAME_SIMILARITY)
            .exclude(pk=contact.pk)
            .order_by("-similarity", "id")[:LIMIT]
        )
        for row in similar.values_list("pk", "similarity"):
            add([row[0]], f"similar name ({row[1]:.0%})", float(row[1]) * 0.8)
    records = Contact.objects.filter(tenant=tenant, pk__in=list(found)).select_related("company")
    for record in records:
        found[record.pk].record = record
    ranked = sorted(found.values(), key=lambda c: (-c.score, c.record.pk))
    return [c for c in ranked if c.record.pk != contact.pk][:LIMIT]


def company_duplicates(*, tenant: Tenant, actor: Actor, company: Company) -> list[Candidate]:
    access.require_read(actor)
    if len(company.name.strip()) < 3:
        return []
    similar = (
        Company.objects.filter(tenant=tenant, name__trigram_similar=company.name)
        .annotate(similarity=TrigramSimilarity("name", company.name))
        .filter(similarity__gte=NAME_SIMILARITY)
        .exclude(pk=company.pk)
        .order_by("-similarity", "id")[:LIMIT]
    )
    return [
        Candidate(record=c, reasons=[f"similar name ({c.similarity:.0%})"], score=c.similarity)
        for c in similar
    ]
