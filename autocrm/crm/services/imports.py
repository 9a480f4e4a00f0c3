"""Contact imports: upload and check (preview), confirm (a worker job runs it), undo.

Each row is all or nothing: its contact, emails, phones, company and segment membership are
written in one savepoint, so a row that fails half-way leaves nothing; failing rows are in
the import's per-row report. Rows are committed in batches of ``BATCH`` so the progress
bar moves and a crash loses at most one batch (a retried job carries on after the last
committed row). Every contact created or changed is recorded (ContactImportRecord), which
is what undo walks back.

Dedupe: a row *matches* the contact that has its email (any of their addresses), or else
one with the row's phone number. ``skip`` leaves matched contacts alone, ``update`` writes
the row's non-empty values onto them, ``create`` makes a new contact for every row (a row
whose email already belongs to someone is reported: an address is one contact's)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from autocrm.accounts.models import STAFF_ROLES, Membership
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import access, events
from autocrm.crm.import_files import (
    ContactRow,
    ImportFileError,
    RowError,
    Table,
    check_row,
    clean_mapping,
    guess_mapping,
    read_table,
)
from autocrm.crm.models import (
    Contact,
    ContactEmail,
    ContactImport,
    ContactImportRecord,
    Segment,
)
from autocrm.crm.services.common import PhoneInput
from autocrm.crm.services.contacts import contact_delete_many, contact_update
from autocrm.crm.services.import_bulk import import_chunk

# Rows decided and written together (ADR 0042): large enough that each statement carries
# thousands of rows, small enough that the progress bar moves every second or two.
CHUNK = 2000
CHUNK_ATTEMPTS = 3
MAX_REPORTED_ERRORS = 1000
PREVIEW_ROWS = 10


@dataclass
class Checked:
    """Every row of a file checked against a mapping."""

    rows: list[ContactRow]
    errors: list[RowError]
    total: int


def _region(tenant: Tenant) -> str | None:
    return str(tenant.settings.get("phone_region") or "") or None


def _owners(tenant: Tenant) -> dict[str, int]:
    members = Membership.objects.filter(tenant=tenant, role__in=STAFF_ROLES)
    return {email.lower(): uid for uid, email in members.values_list("user_id", "user__email")}


def check_table(tenant: Tenant, table: Table, mapping: dict[str, str]) -> Checked:
    return _check_rows(table, mapping, _region(tenant), _owners(tenant), 0, len(table.rows))


def _check_rows(
    table: Table,
    mapping: dict[str, str],
    region: str | None,
    owners: dict[str, int],
    start: int,
    stop: int,
) -> Checked:
    """Rows ``start`` to ``stop`` (data rows, from 0) checked; no database access, so a
    thread can check the next chunk while the database writes this one."""
    rows: list[ContactRow] = []
    errors: list[RowError] = []
    for offset in range(start, min(stop, len(table.rows))):
        row, problems = check_row(
            table.rows[offset],
            line=offset + 2,
            mapping=mapping,
            headers=table.headers,
            region=region,
            owners=owners,
        )
        if row is not None:
            rows.append(row)
        errors.extend(problems)
    return Checked(rows=rows, errors=errors, total=stop - start)


def _read(contact_import: ContactImport) -> Table:
    with default_storage.open(contact_import.file_path, "rb") as handle:
        data = handle.read()
    return read_table(data, file_name=contact_import.file_name, encoding=contact_import.encoding)[1]


@transaction.atomic
def contact_import_upload(
    *, tenant: Tenant, actor: Actor, file_name: str, data: bytes, encoding: str = "auto"
) -> ContactImport:
    """Store an uploaded file and guess its mapping; nothing is imported yet (preview).
    A file that cannot be read raises ValidationError with the reason."""
    access.require_edit(actor)
    try:
        fmt, table = read_table(data, file_name=file_name, encoding=encoding)
    except ImportFileError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    path = default_storage.save(f"crm-imports/{tenant.pk}/{uuid.uuid4().hex}", ContentFile(data))
    return ContactImport.objects.create(
        tenant=tenant,
        file_name=file_name[:255],
        file_format=fmt,
        file_path=path,
        file_size=len(data),
        encoding=table.encoding or "",
        headers=table.headers,
        mapping=guess_mapping(table.headers),
        total_rows=len(table.rows),
        created_by=actor.user,
    )


@dataclass
class Preview:
    headers: list[str]
    mapping: dict[str, str]
    sample: list[list[str]]
    errors: list[RowError]
    valid_rows: int
    total_rows: int
    matching: int  # valid rows whose email is already a contact's
    mapping_error: str = ""


def contact_import_preview(
    *, tenant: Tenant, actor: Actor, contact_import: ContactImport, mapping: dict[str, str]
) -> Preview:
    """Check every row against ``mapping`` and save the mapping when it is usable."""
    access.require_edit(actor)
    table = _read(contact_import)
    preview = Preview(
        headers=table.headers,
        mapping=mapping,
        sample=table.rows[:PREVIEW_ROWS],
        errors=[],
        valid_rows=0,
        total_rows=len(table.rows),
        matching=0,
    )
    try:
        mapping = clean_mapping(mapping, table.headers)
    except ImportFileError as exc:
        preview.mapping_error = str(exc)
        return preview
    checked = check_table(tenant, table, mapping)
    preview.mapping = mapping
    preview.errors = checked.errors
    preview.valid_rows = len(checked.rows)
    emails = [r.email for r in checked.rows]
    for start in range(0, len(emails), 5000):
        preview.matching += ContactEmail.objects.filter(
            tenant=tenant, email__in=emails[start : start + 5000]
        ).count()
    if contact_import.status == ContactImport.Status.PREVIEW:
        contact_import.mapping = mapping
        contact_import.save(update_fields=["mapping"])
    return preview


@transaction.atomic
def contact_import_confirm(
    *,
    tenant: Tenant,
    actor: Actor,
    contact_import: ContactImport,
    dedupe: str,
    segment: Segment | None = None,
) -> ContactImport:
    """Queue the import (the worker runs it: crm.contact_import_run)."""
    access.require_edit(actor)
    if dedupe not in ContactImport.Dedupe.values:
        raise ValidationError({"dedupe": "Choose skip, update or create."})
    if segment is not None and segment.kind != Segment.Kind.STATIC:
        raise ValidationError({"segment": "Imported contacts go onto a static list."})
    locked = ContactImport.objects.select_for_update().get(tenant=tenant, pk=contact_import.pk)
    if locked.status != ContactImport.Status.PREVIEW:
        raise ValidationError({"status": "This import was already started."})
    try:
        clean_mapping(locked.mapping, locked.headers)
    except ImportFileError as exc:
        raise ValidationError({"mapping": str(exc)}) from exc
    locked.dedupe = dedupe
    locked.segment = segment
    locked.status = ContactImport.Status.QUEUED
    locked.save(update_fields=["dedupe", "segment", "status"])
    event_append(
        tenant=tenant,
        type=events.CONTACT_IMPORT_STARTED,
        subject=locked,
        actor=actor,
        payload={"file_name": locked.file_name, "rows": locked.total_rows, "dedupe": dedupe},
    )
    from autocrm.crm.tasks import contact_import_run_job

    contact_import_run_job.defer(tenant_id=tenant.pk, import_id=locked.pk)
    return locked


def contact_import_run(*, tenant: Tenant, actor: Actor, import_id: int) -> ContactImport:
    """Run a confirmed import (the worker job; safe to run again after a crash: rows up to
    ``processed_rows`` were committed and are not written twice)."""
    access.require_edit(actor)
    with tenant_context(tenant):
        contact_import = ContactImport.objects.select_for_update().get(tenant=tenant, pk=import_id)
        if contact_import.status not in (
            ContactImport.Status.QUEUED,
            ContactImport.Status.RUNNING,
        ):
            return contact_import
        contact_import.status = ContactImport.Status.RUNNING
        contact_import.started_at = contact_import.started_at or timezone.now()
        contact_import.save(update_fields=["status", "started_at"])
    try:
        table = _read(contact_import)
        with tenant_context(tenant):
            mapping = clean_mapping(contact_import.mapping, table.headers)
            region, owners = _region(tenant), _owners(tenant)
    except (ImportFileError, OSError) as exc:
        with tenant_context(tenant):
            ContactImport.objects.filter(pk=contact_import.pk).update(
                status=ContactImport.Status.FAILED, failure=str(exc), finished_at=timezone.now()
            )
            contact_import.refresh_from_db()
        return contact_import
    total = len(table.rows)
    starts = list(range(contact_import.processed_rows, total, CHUNK))

    def check(start: int) -> Checked:
        return _check_rows(table, mapping, region, owners, start, start + CHUNK)

    # The next chunk is checked (Python: phonenumbers, the email validator) in a thread
    # while the database writes this one: the two overlap instead of adding up.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-check") as pool:
        upcoming = pool.submit(check, starts[0]) if starts else None
        for index, start in enumerate(starts):
            assert upcoming is not None
            checked = upcoming.result()
            if index + 1 < len(starts):
                upcoming = pool.submit(check, starts[index + 1])
            _chunk_run(tenant, actor, contact_import.pk, checked, min(start + CHUNK, total))
    with tenant_context(tenant):
        contact_import.refresh_from_db()
        contact_import.errors = sorted(contact_import.errors, key=lambda e: e["row"])
        contact_import.processed_rows = total
        contact_import.status = ContactImport.Status.DONE
        contact_import.finished_at = timezone.now()
        contact_import.save()
        event_append(
            tenant=tenant,
            type=events.CONTACT_IMPORT_FINISHED,
            subject=contact_import,
            actor=actor,
            payload={
                "created": contact_import.created_count,
                "updated": contact_import.updated_count,
                "skipped": contact_import.skipped_count,
                "errors": contact_import.error_count,
            },
        )
    # The file is not needed any more (undo works from the records); a retried job of a
    # finished import returns before reading it.
    default_storage.delete(contact_import.file_path)
    return contact_import


def _chunk_run(
    tenant: Tenant, actor: Actor, import_id: int, checked: Checked, processed: int
) -> None:
    """Write one chunk's rows and move the progress past it (to ``processed`` rows, its bad
    rows reported), in one transaction: a crash loses the chunk whole and the retried job
    writes it again; the import row's lock and its ``processed_rows`` make a second run (a
    retry racing a slow first one) skip what the first committed. A contact created
    meanwhile by someone else with one of the chunk's addresses fails the unique
    constraint: the chunk is decided again against it."""
    for attempt in range(CHUNK_ATTEMPTS):
        try:
            with tenant_context(tenant):
                locked = ContactImport.objects.select_for_update().get(tenant=tenant, pk=import_id)
                done = locked.processed_rows
                if done >= processed:
                    return
                todo = [r for r in checked.rows if r.line - 1 > done]
                counts = {"created": 0, "updated": 0, "skipped": 0}
                errors = [e.as_dict() for e in checked.errors if e.row - 1 > done]
                if todo:
                    outcome = import_chunk(
                        tenant=tenant, actor=actor, contact_import=locked, rows=todo
                    )
                    counts, errors = outcome.counts, errors + outcome.errors
                _progress(locked, processed, counts, errors)
            return
        except IntegrityError:
            if attempt == CHUNK_ATTEMPTS - 1:
                raise


def _progress(
    contact_import: ContactImport,
    processed: int,
    counts: dict[str, int],
    batch_errors: list[dict[str, Any]],
) -> None:
    contact_import.processed_rows = max(contact_import.processed_rows, processed)
    contact_import.created_count += counts["created"]
    contact_import.updated_count += counts["updated"]
    contact_import.skipped_count += counts["skipped"]
    contact_import.error_count += len(batch_errors)
    contact_import.errors = (contact_import.errors + batch_errors)[:MAX_REPORTED_ERRORS]
    contact_import.save()


@transaction.atomic
def contact_import_undo(
    *, tenant: Tenant, actor: Actor, contact_import: ContactImport
) -> ContactImport:
    """Take a finished import back: contacts it created are deleted (unless they requested a
    ticket since: those are kept and counted), contacts it changed get their values back."""
    access.require_admin(actor)
    locked = ContactImport.objects.select_for_update().get(tenant=tenant, pk=contact_import.pk)
    if locked.status != ContactImport.Status.DONE:
        raise ValidationError({"status": "Only a finished import can be undone."})
    records = ContactImportRecord.objects.filter(tenant=tenant, contact_import=locked)
    restored = 0
    # Changes first, newest first: a contact changed twice gets its oldest values back.
    for record in records.filter(action="updated").exclude(contact=None).order_by("-id"):
        contact = Contact.objects.filter(tenant=tenant, pk=record.contact_id or 0).first()
        if contact is None:
            continue
        _restore(tenant, actor, contact, record.before)
        restored += 1
    created = list(
        records.filter(action="created").exclude(contact=None).values_list("contact_id", flat=True)
    )
    deleted = kept = 0
    for start in range(0, len(created), CHUNK):
        outcome = contact_delete_many(
            tenant=tenant, actor=actor, contact_ids=[c for c in created[start : start + CHUNK] if c]
        )
        deleted += len(outcome.deleted)
        kept += len(outcome.kept)
    locked.status = ContactImport.Status.UNDONE
    locked.undone_at = timezone.now()
    locked.save(update_fields=["status", "undone_at"])
    event_append(
        tenant=tenant,
        type=events.CONTACT_IMPORT_UNDONE,
        subject=locked,
        actor=actor,
        payload={"deleted": deleted, "restored": restored, "kept_with_tickets": kept},
    )
    return locked


def _restore(tenant: Tenant, actor: Actor, contact: Contact, before: dict[str, Any]) -> None:
    labels = before.get("phone_labels", {})
    contact_update(
        tenant=tenant,
        actor=actor,
        contact=contact,
        changes={
            "name": before["name"],
            "title": before["title"],
            "owner_id": before["owner_id"],
            "tags": before["tags"],
            "custom_fields": before["custom_fields"],
            "consent_email": before["consent_email"],
            "consent_sms": before["consent_sms"],
            "consent_phone": before["consent_phone"],
            "email": before["email"],
            "emails": [e for e in before["emails"] if e != before["email"]],
            "phones": [PhoneInput(n, labels.get(n, "")) for n in before["phones"]],
            "company_id": before["company_id"],
            "company_ids": before["company_ids"],
        },
    )
