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

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
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
    Company,
    Contact,
    ContactEmail,
    ContactImport,
    ContactImportRecord,
    ContactPhone,
    Segment,
    SegmentMember,
)
from autocrm.crm.services.common import PhoneInput
from autocrm.crm.services.companies import company_create
from autocrm.crm.services.contacts import (
    contact_create,
    contact_delete,
    contact_snapshot,
    contact_update,
)

BATCH = 500
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
    region, owners = _region(tenant), _owners(tenant)
    rows: list[ContactRow] = []
    errors: list[RowError] = []
    for offset, values in enumerate(table.rows):
        row, problems = check_row(
            values,
            line=offset + 2,
            mapping=mapping,
            headers=table.headers,
            region=region,
            owners=owners,
        )
        if row is not None:
            rows.append(row)
        errors.extend(problems)
    return Checked(rows=rows, errors=errors, total=len(table.rows))


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


class _Matcher:
    """Finds the contact a row matches, a batch of rows at a time (two queries a batch)."""

    def __init__(self, tenant: Tenant, rows: list[ContactRow]) -> None:
        emails = [r.email for r in rows]
        phones = [p for r in rows for p in r.phones]
        self.by_email = dict(
            ContactEmail.objects.filter(tenant=tenant, email__in=emails).values_list(
                "email", "contact_id"
            )
        )
        self.by_phone: dict[str, int] = {}
        for number, contact_id in ContactPhone.objects.filter(
            tenant=tenant, number__in=phones
        ).values_list("number", "contact_id"):
            self.by_phone.setdefault(number, contact_id)

    def match(self, row: ContactRow) -> int | None:
        found = self.by_email.get(row.email)
        if found is None:
            found = next((self.by_phone[p] for p in row.phones if p in self.by_phone), None)
        return found

    def remember(self, row: ContactRow, contact_id: int) -> None:
        for email in [row.email, *row.emails]:
            self.by_email[email] = contact_id
        for phone in row.phones:
            self.by_phone.setdefault(phone, contact_id)


class _Companies:
    """Company names of the file to ids: found by name (case-insensitive), else created."""

    def __init__(self, tenant: Tenant, actor: Actor) -> None:
        self.tenant, self.actor = tenant, actor
        self.ids: dict[str, int] = {}

    def id_of(self, name: str) -> int | None:
        if not name:
            return None
        key = name.strip().lower()
        if key not in self.ids:
            found = (
                Company.objects.filter(tenant=self.tenant, name__iexact=name.strip())
                .order_by("id")
                .values_list("id", flat=True)
                .first()
            )
            if found is None:
                found = company_create(tenant=self.tenant, actor=self.actor, name=name.strip()).pk
            self.ids[key] = found
        return self.ids[key]


def _changes(row: ContactRow, company_id: int | None, current: Contact) -> dict[str, Any]:
    """The row's non-empty values as contact_update changes (lists are added to, not
    replaced: an import never drops an address or a number the contact had)."""
    changes: dict[str, Any] = {}
    if "name" in row.given:
        changes["name"] = row.name
    if row.title:
        changes["title"] = row.title
    if row.owner_id is not None:
        changes["owner_id"] = row.owner_id
    if row.tags:
        changes["tags"] = list(dict.fromkeys([*current.tags, *row.tags]))
    if row.custom_fields:
        changes["custom_fields"] = {**current.custom_fields, **row.custom_fields}
    changes.update(row.consent)
    known_emails = set(current.emails.values_list("email", flat=True))
    new_emails = [e for e in [row.email, *row.emails] if e not in known_emails]
    if new_emails:
        changes["emails"] = sorted(known_emails - {current.email}) + new_emails
    known_phones = list(current.phones.values_list("number", "label"))
    new_phones = [p for p in row.phones if p not in {n for n, _ in known_phones}]
    if new_phones:
        changes["phones"] = [PhoneInput(n, label) for n, label in known_phones] + [
            PhoneInput(p, "") for p in new_phones
        ]
    if company_id is not None and company_id != current.company_id:
        changes["company_ids"] = sorted(
            set(current.memberships.values_list("company_id", flat=True)) | {company_id}
        )
        if current.company_id is None:
            changes["company_id"] = company_id
    return changes


def _import_row(
    *,
    tenant: Tenant,
    actor: Actor,
    contact_import: ContactImport,
    row: ContactRow,
    matcher: _Matcher,
    companies: _Companies,
) -> str:
    """Write one row (in the caller's savepoint). Returns created / updated / skipped."""
    matched = matcher.match(row)
    mode = contact_import.dedupe
    if matched is not None and mode == ContactImport.Dedupe.SKIP:
        return "skipped"
    if matched is not None and mode == ContactImport.Dedupe.CREATE:
        if row.email in matcher.by_email:
            raise ValidationError(
                {"email": f"{row.email} is already the address of contact #{matched}."}
            )
        matched = None
    company_id = companies.id_of(row.company)
    if matched is None:
        contact = contact_create(
            tenant=tenant,
            actor=actor,
            email=row.email,
            name=row.name,
            emails=row.emails,
            phones=[PhoneInput(p, "") for p in row.phones],
            company_id=company_id,
            owner_id=row.owner_id,
            title=row.title,
            tags=row.tags,
            custom_fields=row.custom_fields,
            consent_email=row.consent.get("consent_email", False),
            consent_sms=row.consent.get("consent_sms", False),
            consent_phone=row.consent.get("consent_phone", False),
        )
        action, before = "created", {}
    else:
        current = Contact.objects.get(tenant=tenant, pk=matched)
        changes = _changes(row, company_id, current)
        if not changes:
            return "skipped"
        before = contact_snapshot(current)
        before["phone_labels"] = dict(current.phones.values_list("number", "label"))
        contact = contact_update(tenant=tenant, actor=actor, contact=current, changes=changes)
        action = "updated"
    ContactImportRecord.objects.create(
        tenant=tenant,
        contact_import=contact_import,
        contact=contact,
        action=action,
        before=_jsonable(before),
    )
    if contact_import.segment_id is not None:
        SegmentMember.objects.get_or_create(
            tenant=tenant, segment_id=contact_import.segment_id, contact=contact
        )
    matcher.remember(row, contact.pk)
    return action


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _batches(rows: list[ContactRow], size: int) -> Iterator[list[ContactRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


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
            checked = check_table(tenant, table, mapping)
    except (ImportFileError, OSError) as exc:
        with tenant_context(tenant):
            ContactImport.objects.filter(pk=contact_import.pk).update(
                status=ContactImport.Status.FAILED, failure=str(exc), finished_at=timezone.now()
            )
            contact_import.refresh_from_db()
        return contact_import
    errors = [e.as_dict() for e in checked.errors]
    done_lines = contact_import.processed_rows
    companies = _Companies(tenant, actor)
    pending = [r for r in checked.rows if r.line - 1 > done_lines]
    for batch in _batches(pending, BATCH):
        counts = {"created": 0, "updated": 0, "skipped": 0}
        batch_errors: list[dict[str, Any]] = []
        # Each batch commits on its own (outside any outer transaction, as in the worker):
        # the progress bar reads processed_rows from other requests.
        with tenant_context(tenant):
            matcher = _Matcher(tenant, batch)
            for row in batch:
                try:
                    with transaction.atomic():
                        counts[
                            _import_row(
                                tenant=tenant,
                                actor=actor,
                                contact_import=contact_import,
                                row=row,
                                matcher=matcher,
                                companies=companies,
                            )
                        ] += 1
                except ValidationError as exc:
                    for column, messages in _messages(exc):
                        batch_errors.append(
                            {"row": row.line, "column": column, "message": messages}
                        )
            last_line = batch[-1].line
            _progress(contact_import, last_line - 1, counts, batch_errors)
    with tenant_context(tenant):
        contact_import.refresh_from_db()
        row_errors = [e for e in errors if e["row"] - 1 > done_lines]
        stored = (contact_import.errors + row_errors)[:MAX_REPORTED_ERRORS]
        stored.sort(key=lambda e: e["row"])
        contact_import.errors = stored
        contact_import.error_count += len(row_errors)
        contact_import.processed_rows = checked.total
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


def _messages(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [(k, " ".join(v)) for k, v in exc.message_dict.items()]
    return [("", " ".join(exc.messages))]


def _progress(
    contact_import: ContactImport,
    processed: int,
    counts: dict[str, int],
    batch_errors: list[dict[str, Any]],
) -> None:
    contact_import.refresh_from_db()
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
    deleted = restored = kept = 0
    records = ContactImportRecord.objects.filter(tenant=tenant, contact_import=locked)
    for record in records.exclude(contact=None).order_by("-id"):
        contact = Contact.objects.filter(tenant=tenant, pk=record.contact_id or 0).first()
        if contact is None:
            continue
        if record.action == "created":
            try:
                with transaction.atomic():
                    contact_delete(tenant=tenant, actor=actor, contact=contact)
            except ValidationError:  # it requested a ticket since: kept for its history
                kept += 1
                continue
            deleted += 1
        else:
            before = record.before
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
            restored += 1
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
