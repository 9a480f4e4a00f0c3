"""The set-based write of a contact import's rows, a chunk at a time (ADR 0042).

Per chunk, in the caller's tenant transaction: the rows' emails and phones are matched
against the tenant's contacts in two queries, companies are found (one query) or created,
then every row is decided in Python, in file order, against that picture, which each row
updates as it goes (so a file naming one person twice matches itself, as the one-row-at-a-
time path did). Only then is anything written: the new contacts with one ``INSERT ...
SELECT FROM jsonb_to_recordset(...)`` per table, the rows travelling as one json document
(``core.sql.fetch_bulk``; ``COPY FROM`` is refused on tables with row-level security), the
updated ones with one bulk UPDATE, their records for undo, the static list's members, and
one ``contact.created`` / ``contact.updated`` event per contact through
``event_append_many`` (one dispatch job per chunk). A row that cannot be written is decided
before any write and lands in the report, so nothing of it exists.

The decisions are the services' own rules: what matches (the email, any of a contact's
addresses, else a phone number), which company a new contact gets (the named one, else the
one of its email's domain), what an update changes (non-empty values; lists are added to,
never replaced), which addresses are taken (an address is one contact's)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, LiteralString

from django.core.exceptions import ValidationError
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.events import EventDraft, event_append_many
from autocrm.core.models import Tenant
from autocrm.core.sql import fetch_bulk, json_rows
from autocrm.crm import events
from autocrm.crm.import_files import ContactRow
from autocrm.crm.models import (
    Contact,
    ContactCompany,
    ContactEmail,
    ContactImport,
    ContactPhone,
    SegmentMember,
)
from autocrm.crm.normalize import canonical_email, email_domain
from autocrm.crm.services.common import clean_custom_fields
from autocrm.crm.services.companies import company_create_many
from autocrm.crm.services.contacts import CONSENT_FIELDS

Dedupe = ContactImport.Dedupe


@dataclass
class _Person:
    """A contact as the chunk sees it: an existing one (``pk`` > 0, loaded for an update) or
    one this chunk creates (``pk`` < 0 until inserted)."""

    pk: int
    line: int  # the first row of the chunk that wrote it
    email: str
    emails: list[str]  # every address, the primary first
    phones: list[tuple[str, str]]  # (number, label), the primary first
    name: str = ""
    title: str = ""
    locale: str = ""
    owner_id: int | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, bool] = field(default_factory=dict)
    company_id: int | None = None
    company_ids: list[int] = field(default_factory=list)  # memberships, the primary first
    before: dict[str, Any] | None = None  # the snapshot undo restores (existing ones)
    stored: tuple[set[str], set[str], set[int]] = (set(), set(), set())  # rows already in DB

    @property
    def created(self) -> bool:
        return self.pk < 0

    def snapshot(self) -> dict[str, Any]:
        """The shape of ``contacts.contact_snapshot`` (what contact.updated diffs)."""
        return {
            "email": self.email,
            "emails": sorted(self.emails),
            "phones": sorted(n for n, _ in self.phones),
            "name": self.name,
            "title": self.title,
            "locale": self.locale,
            "company_id": self.company_id,
            "company_ids": sorted(self.company_ids),
            "owner_id": self.owner_id,
            "tags": list(self.tags),
            "custom_fields": dict(self.custom_fields),
            **{flag: self.consent.get(flag, False) for flag in CONSENT_FIELDS},
        }

    def copy(self) -> _Person:
        return _Person(
            **{
                **self.__dict__,
                "emails": list(self.emails),
                "phones": list(self.phones),
                "tags": list(self.tags),
                "custom_fields": dict(self.custom_fields),
                "consent": dict(self.consent),
                "company_ids": list(self.company_ids),
            }
        )


class RowRefused(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


@dataclass
class ChunkOutcome:
    counts: dict[str, int]
    errors: list[dict[str, Any]]


class _Chunk:
    """One chunk's picture of the tenant's contacts, and the rows decided against it."""

    def __init__(
        self, tenant: Tenant, actor: Actor, contact_import: ContactImport, rows: list[ContactRow]
    ) -> None:
        self.tenant, self.actor, self.mode = tenant, actor, contact_import.dedupe
        self.contact_import = contact_import
        addresses = {e for r in rows for e in (r.email, *r.emails)}
        self.by_email: dict[str, int] = dict(_lookup(_EMAILS_OWNERS, tenant, addresses))
        numbers = {p for r in rows for p in r.phones}
        self.by_phone: dict[str, int] = dict(_lookup(_PHONES_OWNERS, tenant, numbers))
        self.company_ids = _companies(tenant, actor, {r.company for r in rows if r.company})
        domains = {email_domain(r.email) for r in rows if not r.company}
        self.domain_companies: dict[str, int] = dict(_lookup(_DOMAIN_COMPANIES, tenant, domains))
        self.people: dict[int, _Person] = {}
        if self.mode == Dedupe.UPDATE:
            matched = {self.by_email.get(r.email) for r in rows}
            matched |= {self.by_phone.get(p) for r in rows for p in r.phones}
            self.people = _load(tenant, {pk for pk in matched if pk is not None})
        self.new_count = 0
        self.counts = {"created": 0, "updated": 0, "skipped": 0}
        self.errors: list[dict[str, Any]] = []

    def _match(self, row: ContactRow) -> int | None:
        found = self.by_email.get(row.email)
        if found is None:
            found = next((self.by_phone[p] for p in row.phones if p in self.by_phone), None)
        return found

    def _whose(self, pk: int) -> str:
        if pk > 0:
            return f"contact #{pk}"
        return f"the contact of row {self.people[pk].line}"

    def _remember(self, person: _Person) -> None:
        self.people[person.pk] = person
        for email in person.emails:
            self.by_email[email] = person.pk
        for number, _ in person.phones:
            self.by_phone.setdefault(number, person.pk)

    def decide(self, row: ContactRow) -> None:
        try:
            self.counts[self._decide(row)] += 1
        except RowRefused as refused:
            self.errors.append(
                {"row": row.line, "column": refused.column, "message": refused.message}
            )

    def _decide(self, row: ContactRow) -> str:
        try:
            custom = clean_custom_fields(row.custom_fields)
        except ValidationError as exc:
            raise RowRefused("custom_fields", " ".join(exc.messages)) from None
        matched = self._match(row)
        if matched is not None and self.mode == Dedupe.SKIP:
            return "skipped"
        if matched is not None and self.mode == Dedupe.CREATE:
            if row.email in self.by_email:
                raise RowRefused(
                    "email", f"{row.email} is already the address of {self._whose(matched)}."
                )
            matched = None
        company_id = self.company_ids.get(row.company.strip().lower()) if row.company else None
        if matched is None:
            return self._create(row, company_id, custom)
        return self._update(self.people[matched], row, company_id, custom)

    def _taken(self, pk: int, emails: list[str]) -> None:
        for email in emails:
            owner = self.by_email.get(email)
            if owner is not None and owner != pk:
                raise RowRefused(
                    "emails", f"{email} belongs to another contact; merge the two instead."
                )

    def _create(self, row: ContactRow, company_id: int | None, custom: dict[str, Any]) -> str:
        self.new_count += 1
        emails = list(dict.fromkeys([row.email, *row.emails]))
        self._taken(-self.new_count, emails)
        if company_id is None:
            company_id = self.domain_companies.get(email_domain(row.email))
        person = _Person(
            pk=-self.new_count,
            line=row.line,
            email=row.email,
            emails=emails,
            phones=[(p, "") for p in dict.fromkeys(row.phones)],
            name=row.name,
            title=row.title,
            owner_id=row.owner_id,
            tags=list(row.tags),
            custom_fields=custom,
            consent=dict(row.consent),
            company_id=company_id,
            company_ids=[company_id] if company_id else [],
        )
        self._remember(person)
        return "created"

    def _update(
        self, current: _Person, row: ContactRow, company_id: int | None, custom: dict[str, Any]
    ) -> str:
        """The row's non-empty values onto ``current`` (all or nothing)."""
        person = current.copy()
        if "name" in row.given:
            person.name = row.name
        if row.title:
            person.title = row.title
        if row.owner_id is not None:
            person.owner_id = row.owner_id
        person.tags = list(dict.fromkeys([*person.tags, *row.tags]))
        person.custom_fields = {**person.custom_fields, **custom}
        person.consent = {**person.consent, **row.consent}
        new_emails = [e for e in dict.fromkeys([row.email, *row.emails]) if e not in person.emails]
        self._taken(person.pk, new_emails)
        person.emails += new_emails
        known = {n for n, _ in person.phones}
        person.phones += [(p, "") for p in dict.fromkeys(row.phones) if p not in known]
        if company_id is not None and company_id not in person.company_ids:
            person.company_ids.append(company_id)
        if person.company_id is None and company_id is not None:
            person.company_id = company_id
        if person.snapshot() == current.snapshot():
            return "skipped"
        person.line = person.line or row.line
        self._remember(person)
        return "updated"

    def write(self) -> None:
        created = [p for p in self.people.values() if p.created]
        updated = [p for p in self.people.values() if not p.created and _diff(p)]
        now = timezone.now()
        _insert_contacts(self.tenant, created, now)
        _update_contacts(self.tenant, updated, now)
        _insert_children(self.tenant, [*created, *updated])
        _insert_records(self.tenant, self.contact_import, created, updated)
        if self.contact_import.segment_id is not None:
            SegmentMember.objects.bulk_create(
                [
                    SegmentMember(
                        tenant=self.tenant,
                        segment_id=self.contact_import.segment_id,
                        contact_id=p.pk,
                    )
                    for p in [*created, *updated]
                ],
                ignore_conflicts=True,
            )
        # One event per contact, in the order of the rows that wrote them.
        drafts = [(p.line, _created_event(p)) for p in created]
        drafts += [
            (p.line, EventDraft(events.CONTACT_UPDATED, _subject(p), {"changes": _diff(p)}))
            for p in updated
        ]
        drafts.sort(key=lambda item: item[0])
        event_append_many(tenant=self.tenant, actor=self.actor, drafts=[d for _, d in drafts])


def import_chunk(
    *, tenant: Tenant, actor: Actor, contact_import: ContactImport, rows: list[ContactRow]
) -> ChunkOutcome:
    """Decide and write ``rows`` (in the caller's tenant transaction)."""
    chunk = _Chunk(tenant, actor, contact_import, rows)
    for row in rows:
        chunk.decide(row)
    chunk.write()
    return ChunkOutcome(counts=chunk.counts, errors=chunk.errors)


# Who has these values (``%(values)s``: a json array): one probe of the unique index per
# value. The tenant comes as ``(SELECT %(tenant)s)``, a value the planner does not see: for a
# tenant its statistics do not know yet (a new customer's first import) it estimated one
# row for the tenant, took the tenant_id index and filtered every row of the tenant for
# every value (a second a chunk, growing with the import).
_EMAILS_OWNERS: LiteralString = """
SELECT v.value, t.contact_id FROM jsonb_array_elements_text(%(values)s::jsonb) AS v(value),
LATERAL (SELECT contact_id FROM crm_contactemail
         WHERE tenant_id = (SELECT %(tenant)s::bigint) AND email = v.value LIMIT 1) AS t
"""
# The oldest contact with the number (a switchboard's number is shared).
_PHONES_OWNERS: LiteralString = """
SELECT v.value, t.contact_id FROM jsonb_array_elements_text(%(values)s::jsonb) AS v(value),
LATERAL (SELECT contact_id FROM crm_contactphone
         WHERE tenant_id = (SELECT %(tenant)s::bigint) AND number = v.value LIMIT 1) AS t
"""
_DOMAIN_COMPANIES: LiteralString = """
SELECT v.value, t.company_id FROM jsonb_array_elements_text(%(values)s::jsonb) AS v(value),
LATERAL (SELECT company_id FROM crm_companydomain
         WHERE tenant_id = (SELECT %(tenant)s::bigint) AND domain = v.value LIMIT 1) AS t
"""
# Company names are matched case-insensitively: lower() may not use an index under
# row-level security, so this hashes the tenant's companies' names (thousands, not millions).
_COMPANIES_NAMED: LiteralString = """
SELECT lower(t.name), t.id FROM jsonb_array_elements_text(%(values)s::jsonb) AS v(value)
JOIN crm_company t ON t.tenant_id = %(tenant)s::bigint AND lower(t.name) = v.value
ORDER BY t.id DESC
"""


def _lookup(statement: LiteralString, tenant: Tenant, values: set[str]) -> list[tuple[Any, ...]]:
    if not values:
        return []
    return fetch_bulk(statement, {"tenant": tenant.pk, "values": json_rows(sorted(values))})


def _companies(tenant: Tenant, actor: Actor, names: set[str]) -> dict[str, int]:
    """Company names (lowercase) to ids: found case-insensitively (the oldest of a name),
    else created (company_create_many, with their events)."""
    wanted = {name.strip().lower(): name.strip() for name in names}
    found: dict[str, int] = dict(_lookup(_COMPANIES_NAMED, tenant, set(wanted)))
    missing = [name for key, name in wanted.items() if key not in found]
    for company in company_create_many(tenant=tenant, actor=actor, names=missing):
        found[company[1].lower()] = company[0]
    return found


def _load(tenant: Tenant, pks: set[int]) -> dict[int, _Person]:
    """The matched contacts (locked: a concurrent edit waits for the chunk), as people."""
    people: dict[int, _Person] = {}
    for contact in Contact.objects.select_for_update().filter(tenant=tenant, pk__in=pks):
        people[contact.pk] = _Person(
            pk=contact.pk,
            line=0,
            email=contact.email,
            emails=[contact.email],
            phones=[],
            name=contact.name,
            title=contact.title,
            locale=contact.locale,
            owner_id=contact.owner_id,
            tags=list(contact.tags),
            custom_fields=dict(contact.custom_fields),
            consent={flag: getattr(contact, flag) for flag in CONSENT_FIELDS},
            company_id=contact.company_id,
        )
    for contact_id, email in ContactEmail.objects.filter(
        tenant=tenant, contact_id__in=pks
    ).values_list("contact_id", "email"):
        if email not in people[contact_id].emails:
            people[contact_id].emails.append(email)
    for contact_id, number, label in (
        ContactPhone.objects.filter(tenant=tenant, contact_id__in=pks)
        .order_by("id")
        .values_list("contact_id", "number", "label")
    ):
        people[contact_id].phones.append((number, label))
    for contact_id, company_id in ContactCompany.objects.filter(
        tenant=tenant, contact_id__in=pks
    ).values_list("contact_id", "company_id"):
        people[contact_id].company_ids.append(company_id)
    for person in people.values():
        # The primary phone first, as the contact row names it.
        contact_phone = next((n for n, _ in person.phones), "")
        person.phones.sort(key=lambda p: p[0] != contact_phone)
        person.before = {
            **person.snapshot(),
            "phone_labels": dict(person.phones),
        }
        person.stored = (
            set(person.emails),
            {n for n, _ in person.phones},
            set(person.company_ids),
        )
    return people


_INSERT_CONTACTS: LiteralString = """
INSERT INTO crm_contact (tenant_id, email, name, phone, title, owner_id, company_id, tags,
    custom_fields, consent_email, consent_sms, consent_phone, consent_updated_at,
    created_at, updated_at)
SELECT %(tenant)s::bigint, u.email, u.name, u.phone, u.title, u.owner_id, u.company_id,
    ARRAY(SELECT jsonb_array_elements_text(u.tags))::varchar(50)[], u.custom_fields,
    u.consent_email, u.consent_sms, u.consent_phone,
    CASE WHEN u.consent_email OR u.consent_sms OR u.consent_phone THEN %(now)s::timestamptz END,
    %(now)s::timestamptz, %(now)s::timestamptz
FROM jsonb_to_recordset(%(rows)s::jsonb)
    AS u(email text, name text, phone text, title text, owner_id bigint, company_id bigint,
         tags jsonb, custom_fields jsonb, consent_email boolean, consent_sms boolean,
         consent_phone boolean)
RETURNING email, id
"""


def _insert_contacts(tenant: Tenant, people: list[_Person], now: dt.datetime) -> None:
    """Insert the new contacts and give each its id (matched back by its unique email)."""
    if not people:
        return
    rows = [
        {
            "email": p.email,
            "name": p.name,
            "phone": p.phones[0][0] if p.phones else "",
            "title": p.title,
            "owner_id": p.owner_id,
            "company_id": p.company_id,
            "tags": p.tags,
            "custom_fields": p.custom_fields,
            **{flag: p.consent.get(flag, False) for flag in CONSENT_FIELDS},
        }
        for p in people
    ]
    ids = dict(
        fetch_bulk(_INSERT_CONTACTS, {"tenant": tenant.pk, "now": now, "rows": json_rows(rows)})
    )
    for person in people:
        person.pk = ids[person.email]


def _update_contacts(tenant: Tenant, people: list[_Person], now: dt.datetime) -> None:
    contacts = []
    for person in people:
        assert person.before is not None
        contact = Contact(
            tenant=tenant,
            pk=person.pk,
            name=person.name,
            title=person.title,
            owner_id=person.owner_id,
            tags=person.tags,
            custom_fields=person.custom_fields,
            phone=person.phones[0][0] if person.phones else "",
            company_id=person.company_id,
            updated_at=now,
            consent_updated_at=now,
            **{flag: person.consent.get(flag, False) for flag in CONSENT_FIELDS},
        )
        consent_changed = any(person.before[f] != person.consent.get(f) for f in CONSENT_FIELDS)
        contacts.append((contact, consent_changed))
    fields = ["name", "title", "owner_id", "tags", "custom_fields", "phone", "company_id"]
    fields += [*CONSENT_FIELDS, "updated_at"]
    Contact.objects.bulk_update([c for c, _ in contacts], fields, batch_size=500)
    changed = [c for c, consent in contacts if consent]
    Contact.objects.bulk_update(changed, ["consent_updated_at"], batch_size=500)


def _insert_children(tenant: Tenant, people: list[_Person]) -> None:
    """The emails, phones and company memberships each person has and the database not."""
    emails, phones, memberships = [], [], []
    for person in people:
        have_emails, have_phones, have_companies = person.stored
        emails += [(person.pk, e) for e in person.emails if e not in have_emails]
        phones += [(person.pk, n, lab) for n, lab in person.phones if n not in have_phones]
        memberships += [(person.pk, c) for c in person.company_ids if c not in have_companies]
    if emails:
        fetch_bulk(
            "INSERT INTO crm_contactemail (tenant_id, contact_id, email, canonical) "
            "SELECT %(tenant)s::bigint, r.c, r.e, r.k "
            "FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(c bigint, e text, k text)",
            {
                "tenant": tenant.pk,
                "rows": json_rows([{"c": pk, "e": e, "k": canonical_email(e)} for pk, e in emails]),
            },
        )
    if phones:
        fetch_bulk(
            "INSERT INTO crm_contactphone (tenant_id, contact_id, number, label) "
            "SELECT %(tenant)s::bigint, r.c, r.n, r.l "
            "FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(c bigint, n text, l text)",
            {
                "tenant": tenant.pk,
                "rows": json_rows([{"c": pk, "n": n, "l": lab} for pk, n, lab in phones]),
            },
        )
    if memberships:
        fetch_bulk(
            "INSERT INTO crm_contactcompany (tenant_id, contact_id, company_id, title) "
            "SELECT %(tenant)s::bigint, r.c, r.o, '' "
            "FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(c bigint, o bigint)",
            {
                "tenant": tenant.pk,
                "rows": json_rows([{"c": pk, "o": c} for pk, c in memberships]),
            },
        )


def _insert_records(
    tenant: Tenant,
    contact_import: ContactImport,
    created: list[_Person],
    updated: list[_Person],
) -> None:
    """What undo walks back; (import, row) is unique, so a chunk written twice fails."""
    people = [*created, *updated]
    if not people:
        return
    actions = ["created"] * len(created) + ["updated"] * len(updated)
    fetch_bulk(
        "INSERT INTO crm_contactimportrecord "
        "(tenant_id, contact_import_id, contact_id, action, before, row) "
        "SELECT %(tenant)s::bigint, %(import)s::bigint, r.c, r.a, r.b, r.r "
        "FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(c bigint, a text, b jsonb, r integer)",
        {
            "tenant": tenant.pk,
            "import": contact_import.pk,
            "rows": json_rows(
                [
                    {"c": p.pk, "a": action, "b": p.before or {}, "r": p.line}
                    for p, action in zip(people, actions, strict=True)
                ]
            ),
        },
    )


def _subject(person: _Person) -> tuple[str, int]:
    return (Contact._meta.label_lower, person.pk)


def _diff(person: _Person) -> dict[str, Any]:
    """What changed on an existing contact, as contact.updated names it ({} for none)."""
    if person.before is None:
        return {}
    after = person.snapshot()
    return {
        key: {"from": person.before[key], "to": value}
        for key, value in after.items()
        if person.before[key] != value
    }


def _created_event(person: _Person) -> EventDraft:
    """contact.created as contact_create appends it."""
    payload: dict[str, Any] = {"email": person.email, "name": person.name}
    if person.company_id is not None:
        payload["company_id"] = person.company_id
    return EventDraft(events.CONTACT_CREATED, _subject(person), payload)
