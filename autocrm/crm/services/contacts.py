"""Writes of contacts: create (also found-or-created by email for tickets), change, delete,
link a portal login. Every email, phone and company membership goes through here, so the
primary values on the contact row and the rows of ContactEmail/ContactPhone/ContactCompany
stay in step (see crm.models)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.core.actors import Actor
from autocrm.core.events import EventDraft, event_append, event_append_many
from autocrm.core.models import Tenant
from autocrm.crm import access, events
from autocrm.crm.models import Company, CompanyDomain, Contact, ContactCompany, ContactEmail
from autocrm.crm.normalize import (
    canonical_email,
    clean_email,
    clean_locale,
    email_domain,
)
from autocrm.crm.services.common import (
    PhoneInput,
    clean_owner_tags_fields,
    field_error,
    phones_set,
)

CONSENT_FIELDS = ("consent_email", "consent_sms", "consent_phone")


def _contact_by_email(tenant: Tenant, email: str) -> Contact | None:
    try:  # unique per tenant, so get() (no ORDER BY for first() to compile)
        return Contact.objects.get(tenant=tenant, email=email)
    except Contact.DoesNotExist:
        pass
    row = ContactEmail.objects.filter(tenant=tenant, email=email).values_list("contact_id").first()
    return None if row is None else Contact.objects.get(tenant=tenant, pk=row[0])


def company_for_email(tenant: Tenant, email: str) -> Company | None:
    """The company whose domain is this email's (auto-linking), if any."""
    row = (
        CompanyDomain.objects.filter(tenant=tenant, domain=email_domain(email))
        .values_list("company_id")
        .first()
    )
    if row is None:
        return None
    return Company.objects.get(tenant=tenant, pk=row[0])


def contact_get_or_create(
    *, tenant: Tenant, actor: Actor, email: str, name: str = "", locale: str = ""
) -> tuple[Contact, bool]:
    """The tenant's contact with this email (any of its addresses, case-insensitive),
    created if new (linked to the company of the email's domain). Tickets and inbound mail
    call this for requesters; it checks no role (a customer's own request creates them).
    ``locale`` (a language the caller observed, e.g. an e-mail's Content-Language) is the
    new contact's language; an existing contact that has none learns it."""
    try:
        email = clean_email(email)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    try:
        locale = clean_locale(locale)
    except ValueError:
        locale = ""  # an observed value, not typed by anyone: ignored when malformed
    found = _contact_by_email(tenant, email)
    if found is not None:
        if locale and not found.locale:
            _locale_learn(tenant, actor, found, locale)
        return found, False
    extra = {"locale": locale} if locale else None
    try:
        with transaction.atomic():
            contact = _insert(
                tenant=tenant, actor=actor, email=email, name=name.strip()[:200], extra=extra
            )
    except IntegrityError:  # created concurrently by another request
        found = _contact_by_email(tenant, email)
        if found is None:
            raise
        return found, False
    return contact, True


def _locale_learn(tenant: Tenant, actor: Actor, contact: Contact, locale: str) -> None:
    """Set the language of a contact that has none (never overwrites one someone chose)."""
    if Contact.objects.filter(tenant=tenant, pk=contact.pk, locale="").update(locale=locale):
        contact.locale = locale
        event_append(
            tenant=tenant,
            type=events.CONTACT_UPDATED,
            subject=contact,
            actor=actor,
            payload={"changes": {"locale": {"from": "", "to": locale}}},
        )


def _insert(
    *,
    tenant: Tenant,
    actor: Actor,
    email: str,
    name: str,
    company: Company | None = None,
    extra: dict[str, Any] | None = None,
) -> Contact:
    company = company or company_for_email(tenant, email)
    contact = Contact.objects.create(
        tenant=tenant, email=email, name=name, company=company, **(extra or {})
    )
    ContactEmail.objects.create(
        tenant=tenant, contact=contact, email=email, canonical=canonical_email(email)
    )
    if company is not None:
        ContactCompany.objects.create(tenant=tenant, contact=contact, company=company)
    payload: dict[str, Any] = {"email": contact.email, "name": contact.name}
    if company is not None:
        payload["company_id"] = company.pk
    event_append(
        tenant=tenant, type=events.CONTACT_CREATED, subject=contact, actor=actor, payload=payload
    )
    return contact


def _companies(tenant: Tenant, ids: Sequence[int], field: str) -> list[Company]:
    wanted = list(dict.fromkeys(ids))
    found = {c.pk: c for c in Company.objects.filter(tenant=tenant, pk__in=wanted)}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise field_error(field, f"No company with id {missing[0]}.")
    return [found[i] for i in wanted]


def _emails_set(tenant: Tenant, contact: Contact, emails: Sequence[str]) -> None:
    """The contact's addresses become exactly ``emails`` (primary first); an address of
    another contact is a 422 naming it (merge the two instead)."""
    cleaned: list[str] = []
    for raw in emails:
        try:
            email = clean_email(raw)
        except ValueError as exc:
            raise field_error("emails", str(exc)) from exc
        if email not in cleaned:
            cleaned.append(email)
    taken = (
        ContactEmail.objects.filter(tenant=tenant, email__in=cleaned)
        .exclude(contact=contact)
        .values_list("email", flat=True)
        .first()
    )
    if taken:
        raise field_error("emails", f"{taken} belongs to another contact; merge the two instead.")
    ContactEmail.objects.filter(tenant=tenant, contact=contact).exclude(email__in=cleaned).delete()
    have = set(
        ContactEmail.objects.filter(tenant=tenant, contact=contact).values_list("email", flat=True)
    )
    ContactEmail.objects.bulk_create(
        [
            ContactEmail(tenant=tenant, contact=contact, email=e, canonical=canonical_email(e))
            for e in cleaned
            if e not in have
        ]
    )


def _memberships_set(tenant: Tenant, contact: Contact, companies: list[Company]) -> None:
    keep = [c.pk for c in companies]
    ContactCompany.objects.filter(tenant=tenant, contact=contact).exclude(
        company_id__in=keep
    ).delete()
    have = set(
        ContactCompany.objects.filter(tenant=tenant, contact=contact).values_list(
            "company_id", flat=True
        )
    )
    ContactCompany.objects.bulk_create(
        [
            ContactCompany(tenant=tenant, contact=contact, company=c)
            for c in companies
            if c.pk not in have
        ]
    )


def _clean_common(tenant: Tenant, values: dict[str, Any]) -> dict[str, Any]:
    """Validated row values of the fields a create and an update share."""
    out: dict[str, Any] = {}
    if "name" in values:
        out["name"] = str(values["name"]).strip()[:200]
    if "title" in values:
        out["title"] = str(values["title"]).strip()[:200]
    if "locale" in values:
        try:
            out["locale"] = clean_locale(str(values["locale"] or ""))
        except ValueError as exc:
            raise field_error("locale", str(exc)) from exc
    out.update(clean_owner_tags_fields(tenant, values))
    for flag in CONSENT_FIELDS:
        if flag in values:
            out[flag] = bool(values[flag])
    return out


@transaction.atomic
def contact_create(
    *,
    tenant: Tenant,
    actor: Actor,
    email: str,
    name: str = "",
    emails: Sequence[str] = (),
    phones: Sequence[PhoneInput] = (),
    company_id: int | None = None,
    company_ids: Sequence[int] = (),
    owner_id: int | None = None,
    title: str = "",
    locale: str = "",
    tags: Sequence[str] = (),
    custom_fields: dict[str, Any] | None = None,
    consent_email: bool = False,
    consent_sms: bool = False,
    consent_phone: bool = False,
) -> Contact:
    """A new contact. ``email`` is the primary address, ``emails`` more of them; ``company_id``
    the primary company (else the one of the email's domain), ``company_ids`` more."""
    access.require_edit(actor)
    try:
        primary = clean_email(email)
    except ValueError as exc:
        raise field_error("email", str(exc)) from exc
    if _contact_by_email(tenant, primary) is not None:
        raise field_error("email", f"A contact with {primary} exists.")
    values = _clean_common(
        tenant,
        {
            "name": name,
            "title": title,
            "locale": locale,
            "owner_id": owner_id,
            "tags": list(tags),
            "custom_fields": custom_fields or {},
            "consent_email": consent_email,
            "consent_sms": consent_sms,
            "consent_phone": consent_phone,
        },
    )
    if consent_email or consent_sms or consent_phone:
        values["consent_updated_at"] = timezone.now()
    primary_company = _companies(tenant, [company_id], "company_id")[0] if company_id else None
    companies = _companies(tenant, company_ids, "company_ids")
    if primary_company is not None:
        companies = [primary_company, *[c for c in companies if c.pk != primary_company.pk]]
    contact = _insert(
        tenant=tenant,
        actor=actor,
        email=primary,
        name=values.pop("name"),
        company=primary_company,
        extra=values,
    )
    if len(emails):
        _emails_set(tenant, contact, [primary, *emails])
    if phones:
        contact.phone = phones_set(tenant, contact, phones)
        contact.save(update_fields=["phone"])
    if companies:
        if contact.company is None:
            contact.company = companies[0]
            contact.save(update_fields=["company"])
        linked = [contact.company, *[c for c in companies if c.pk != contact.company_id]]
        _memberships_set(tenant, contact, linked)
    return contact


def contact_snapshot(contact: Contact) -> dict[str, Any]:
    return {
        "email": contact.email,
        "emails": sorted(contact.emails.values_list("email", flat=True)),
        "phones": sorted(contact.phones.values_list("number", flat=True)),
        "name": contact.name,
        "title": contact.title,
        "locale": contact.locale,
        "company_id": contact.company_id,
        "company_ids": sorted(contact.memberships.values_list("company_id", flat=True)),
        "owner_id": contact.owner_id,
        "tags": contact.tags,
        "custom_fields": contact.custom_fields,
        **{flag: getattr(contact, flag) for flag in CONSENT_FIELDS},
    }


@transaction.atomic
def contact_update(
    *, tenant: Tenant, actor: Actor, contact: Contact, changes: dict[str, Any]
) -> Contact:
    """Change what ``changes`` names (the keys of ``contact_create``); ``emails``, ``phones``
    and ``company_ids`` replace the whole list. Appends contact.updated with what changed."""
    access.require_edit(actor)
    contact = Contact.objects.select_for_update().get(tenant=tenant, pk=contact.pk)
    before = contact_snapshot(contact)
    for field, value in _clean_common(tenant, changes).items():
        setattr(contact, field, value)
    if any(before[f] != getattr(contact, f) for f in CONSENT_FIELDS):
        contact.consent_updated_at = timezone.now()
    if "email" in changes or "emails" in changes:
        try:
            primary = clean_email(changes.get("email") or contact.email)
        except ValueError as exc:
            raise field_error("email", str(exc)) from exc
        others = changes["emails"] if "emails" in changes else list(before["emails"])
        _emails_set(tenant, contact, [primary, *others])
        contact.email = primary
    if "phones" in changes:
        contact.phone = phones_set(tenant, contact, changes["phones"])
    if "company_id" in changes or "company_ids" in changes:
        primary_id = changes.get("company_id", contact.company_id)
        other_ids = changes.get("company_ids", before["company_ids"])
        ids = [*([primary_id] if primary_id else []), *other_ids]
        if primary_id:
            _companies(tenant, [primary_id], "company_id")
        companies = _companies(tenant, ids, "company_ids")
        contact.company = companies[0] if companies else None
        _memberships_set(tenant, contact, companies)
    contact.save()
    after = contact_snapshot(contact)
    diff = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if diff:
        event_append(
            tenant=tenant,
            type=events.CONTACT_UPDATED,
            subject=contact,
            actor=actor,
            payload={"changes": diff},
        )
    return contact


@transaction.atomic
def contact_delete(*, tenant: Tenant, actor: Actor, contact: Contact) -> None:
    """Delete a contact that requested no ticket (those are kept for the tickets' history:
    merge the contact into another instead)."""
    if contact_delete_many(tenant=tenant, actor=actor, contact_ids=[contact.pk]).kept:
        raise ValidationError(
            {"contact": "This contact requested tickets; merge it into another contact instead."}
        )


@dataclass
class Deleted:
    deleted: list[int]
    kept: list[int]  # requested tickets: kept for the tickets' history


@transaction.atomic
def contact_delete_many(*, tenant: Tenant, actor: Actor, contact_ids: Sequence[int]) -> Deleted:
    """Delete these contacts, except those that requested tickets (a contact.deleted event
    each; a few statements per thousand contacts, for an import's undo)."""
    access.require_admin(actor)
    from autocrm.tickets.models import Ticket

    found = list(
        Contact.objects.filter(tenant=tenant, pk__in=list(contact_ids)).values_list(
            "pk", "email", "name"
        )
    )
    requesters = set(
        Ticket.objects.filter(tenant=tenant, requester_id__in=[pk for pk, _, _ in found])
        .values_list("requester_id", flat=True)
        .distinct()
    )
    gone = [(pk, email, name) for pk, email, name in found if pk not in requesters]
    event_append_many(
        tenant=tenant,
        actor=actor,
        drafts=[
            EventDraft(
                events.CONTACT_DELETED,
                (Contact._meta.label_lower, pk),
                {"email": email, "name": name},
            )
            for pk, email, name in gone
        ],
    )
    Contact.objects.filter(tenant=tenant, pk__in=[pk for pk, _, _ in gone]).delete()
    return Deleted(deleted=[pk for pk, _, _ in gone], kept=sorted(requesters))


@transaction.atomic
def contact_link_user(*, tenant: Tenant, actor: Actor, contact: Contact, user: User) -> Contact:
    """Link a portal login to a contact that has none yet (a customer's own tickets)."""
    linked = Contact.objects.filter(tenant=tenant, pk=contact.pk, user=None).update(user=user)
    if linked:
        contact.user = user
        event_append(
            tenant=tenant,
            type=events.CONTACT_USER_LINKED,
            subject=contact,
            actor=actor,
            payload={"email": contact.email, "user_id": user.pk},
        )
    return contact
