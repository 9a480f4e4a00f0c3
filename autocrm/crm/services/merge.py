"""Merging duplicates: everything that points at the duplicate moves to the kept record,
then the duplicate is deleted, with one ``*.merged`` event holding what it was.

What moves is not listed by hand: every foreign key to Contact (or Company) in any installed
app is found from the model registry (``_meta.related_objects``), so tickets, messages,
collaborators, activities, deals and whatever a later app adds all move, and a test proves
nothing is left pointing at the duplicate. A row that would break a unique constraint once
moved (the kept contact is already a collaborator on that ticket) is a duplicate link and
is deleted instead.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.crm import access, events
from autocrm.crm.models import Company, CompanyDomain, Contact, ContactEmail


def references_to(model: type[models.Model]) -> list[tuple[type[models.Model], str]]:
    """(model, field name) of every foreign key to ``model`` (one-to-one included)."""
    found = []
    # include_hidden: relations declared with related_name="+" (a message's author, a
    # collaborator) are references all the same.
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete) or rel.many_to_many:
            continue
        field = getattr(rel, "field", None)
        if field is None or not field.concrete:
            continue
        related = rel.related_model
        assert isinstance(related, type)
        found.append((related, field.name))
    return sorted(found, key=lambda r: (r[0]._meta.label_lower, r[1]))


def _move(
    tenant: Tenant, model: type[models.Model], field: str, old: models.Model, new: models.Model
) -> int:
    """Re-point ``field`` of every row from ``old`` to ``new``; rows that would then be
    duplicates (a unique constraint) are deleted. Returns how many rows now point at new."""
    rows = model._default_manager.filter(**{field: old})
    if "tenant" in {f.name for f in model._meta.fields}:
        rows = rows.filter(tenant=tenant)
    try:
        with transaction.atomic():
            return rows.update(**{field: new})
    except IntegrityError:
        pass
    moved = 0
    for pk in list(rows.values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                moved += model._default_manager.filter(pk=pk).update(**{field: new})
        except IntegrityError:
            model._default_manager.filter(pk=pk).delete()
    return moved


def _move_all(
    tenant: Tenant, model: type[models.Model], old: models.Model, new: models.Model
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for related, field in references_to(model):
        moved = _move(tenant, related, field, old, new)
        if moved:
            key = f"{related._meta.label_lower}.{field}"
            counts[key] = counts.get(key, 0) + moved
    return counts


def _contact_snapshot(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "email": contact.email,
        "emails": sorted(
            ContactEmail.objects.filter(contact=contact).values_list("email", flat=True)
        ),
        "phones": sorted(contact.phones.values_list("number", flat=True)),
        "name": contact.name,
        "title": contact.title,
        "company_id": contact.company_id,
        "owner_id": contact.owner_id,
        "user_id": contact.user_id,
        "tags": contact.tags,
        "custom_fields": contact.custom_fields,
        "created_at": contact.created_at.isoformat(),
    }


@transaction.atomic
def contact_merge(*, tenant: Tenant, actor: Actor, keep: Contact, duplicate: Contact) -> Contact:
    """Merge ``duplicate`` into ``keep``: its tickets, messages, activities, deals, emails,
    phones and companies move; empty fields of ``keep`` take the duplicate's values, tags
    and custom fields are combined (keep's value wins), consent follows whichever record
    changed it last. The duplicate is deleted; ``contact.merged`` on ``keep`` records it."""
    access.require_edit(actor)
    if keep.pk == duplicate.pk:
        raise ValidationError({"duplicate_id": "A contact cannot be merged into itself."})
    # Lock both rows in id order (two merges of the same pair cannot deadlock).
    locked = {
        c.pk: c
        for c in Contact.objects.select_for_update()
        .filter(tenant=tenant, pk__in=[keep.pk, duplicate.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ValidationError({"duplicate_id": "No such contact."})
    keep, duplicate = locked[keep.pk], locked[duplicate.pk]
    snapshot = _contact_snapshot(duplicate)
    for field in ("name", "title", "phone"):
        if not getattr(keep, field) and getattr(duplicate, field):
            setattr(keep, field, getattr(duplicate, field))
    keep.owner_id = keep.owner_id or duplicate.owner_id
    keep.company_id = keep.company_id or duplicate.company_id
    keep.tags = list(dict.fromkeys([*keep.tags, *duplicate.tags]))
    keep.custom_fields = {**duplicate.custom_fields, **keep.custom_fields}
    if duplicate.consent_updated_at and (
        keep.consent_updated_at is None or duplicate.consent_updated_at > keep.consent_updated_at
    ):
        keep.consent_email = duplicate.consent_email
        keep.consent_sms = duplicate.consent_sms
        keep.consent_phone = duplicate.consent_phone
        keep.consent_updated_at = duplicate.consent_updated_at
    user = duplicate.user_id
    if keep.user_id is None and user is not None:
        # The login moves with the row below (a portal user keeps seeing their tickets).
        Contact.objects.filter(pk=duplicate.pk).update(user=None)
        keep.user_id = user
    keep.save()
    moved = _move_all(tenant, Contact, duplicate, keep)
    duplicate.delete()
    event_append(
        tenant=tenant,
        type=events.CONTACT_MERGED,
        subject=keep,
        actor=actor,
        payload={
            "merged_id": snapshot["id"],
            "merged_email": snapshot["email"],
            "merged": snapshot,
            "moved": moved,
        },
    )
    return keep


@transaction.atomic
def company_merge(*, tenant: Tenant, actor: Actor, keep: Company, duplicate: Company) -> Company:
    """Merge ``duplicate`` into ``keep``: contacts, memberships, domains, subsidiaries,
    tickets and deals move; the duplicate is deleted; ``company.merged`` records it."""
    access.require_edit(actor)
    if keep.pk == duplicate.pk:
        raise ValidationError({"duplicate_id": "A company cannot be merged into itself."})
    locked = {
        c.pk: c
        for c in Company.objects.select_for_update()
        .filter(tenant=tenant, pk__in=[keep.pk, duplicate.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ValidationError({"duplicate_id": "No such company."})
    keep, duplicate = locked[keep.pk], locked[duplicate.pk]
    snapshot = {
        "id": duplicate.pk,
        "name": duplicate.name,
        "domains": sorted(
            CompanyDomain.objects.filter(company=duplicate).values_list("domain", flat=True)
        ),
        "parent_id": duplicate.parent_id,
        "owner_id": duplicate.owner_id,
        "tags": duplicate.tags,
        "custom_fields": duplicate.custom_fields,
    }
    if keep.parent_id == duplicate.pk:  # keep was its subsidiary: take its place instead
        keep.parent_id = duplicate.parent_id if duplicate.parent_id != keep.pk else None
    if keep.parent_id is None and duplicate.parent_id not in (None, keep.pk):
        keep.parent_id = duplicate.parent_id
    keep.owner_id = keep.owner_id or duplicate.owner_id
    keep.domain = keep.domain or duplicate.domain
    keep.tags = list(dict.fromkeys([*keep.tags, *duplicate.tags]))
    keep.custom_fields = {**duplicate.custom_fields, **keep.custom_fields}
    if duplicate.domain:  # the primary domain moves with its CompanyDomain row below
        Company.objects.filter(pk=duplicate.pk).update(domain="")
    keep.save()
    moved = _move_all(tenant, Company, duplicate, keep)
    duplicate.delete()
    event_append(
        tenant=tenant,
        type=events.COMPANY_MERGED,
        subject=keep,
        actor=actor,
        payload={
            "merged_id": snapshot["id"],
            "merged_name": snapshot["name"],
            "merged": snapshot,
            "moved": moved,
        },
    )
    return keep
