"""CRM records: contacts, companies, their emails, phones, domains and memberships.

``Contact.email``, ``Contact.phone``, ``Contact.company`` and ``Company.domain`` are the
*primary* values, kept on the row because tickets read them on their hottest paths (the
ticket insert looks the requester up by ``crm_contact.email`` and copies ``company_id``).
Every value, the primary one included, also has a row in ``ContactEmail``, ``ContactPhone``,
``ContactCompany`` or ``CompanyDomain``: those tables hold the uniqueness (one contact per
email, one company per domain) and the lookups of duplicates and auto-linking. The crm
services keep both in step; nothing else writes these tables.

Index notes: every composite index starts with tenant_id. Contact search goes through the
words of ``ContactWord`` and the generated ``Contact.search_words`` (ADR 0048). The
trigram GIN index on the name serves the duplicate finder (``%``, LEAKPROOF in our
databases, core.embedded_db, so usable under row-level security; ILIKE is not).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Lower

from autocrm.crm.base import CrmRecord


class Company(CrmRecord):
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="subsidiaries"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = ArrayField(models.CharField(max_length=50), default=list, db_default=[], blank=True)
    custom_fields = models.JSONField(default=dict, db_default={}, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The words of the name, as a contact's (ADR 0048): contact search finds the people of
    # the companies holding every word of ``q`` before it compares names by trigrams (ADR 0055).
    search_words = models.GeneratedField(
        expression=models.Func(
            "name",
            models.Value(""),
            function="crm_contact_words",
            output_field=ArrayField(models.TextField()),
        ),
        output_field=ArrayField(models.TextField()),
        db_persist=True,
    )

    class Meta:
        verbose_name_plural = "companies"
        indexes = [
            models.Index(fields=["tenant", "name", "id"], name="crm_company_name"),
            models.Index(fields=["tenant", "parent"], name="crm_company_parent"),
            GinIndex(
                fields=["name"],
                name="crm_company_name_trgm",
                opclasses=["gin_trgm_ops"],
                fastupdate=False,  # read by every contact search (crm migration 0015)
            ),
            GinIndex(fields=["tags"], name="crm_company_tags"),
            GinIndex(fields=["search_words"], name="crm_company_search_words", fastupdate=False),
        ]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Lower("domain"),
                name="crm_company_domain_once",
                condition=~models.Q(domain=""),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CompanyDomain(CrmRecord):
    """A web/email domain of a company; contacts with an email there are linked to it."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "domain"], name="crm_company_domain_unique"),
            models.CheckConstraint(
                condition=models.Q(domain=Lower("domain")), name="crm_company_domain_lowercase"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "company"], name="crm_companydomain_company")]

    def __str__(self) -> str:
        return self.domain


class Contact(CrmRecord):
    """A person: a requester of tickets, a lead, a customer. ``user`` links a portal login."""

    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    # The language customer e-mails are written in (BCP 47 such as "de" or "pt-br"); blank:
    # the tenant's default (autocrm.inboxes.notification_templates).
    # A database default too: contacts are also inserted by hand-written SQL (the ticket
    # create path, bulk seeding) that names only the columns it knows.
    locale = models.CharField(max_length=10, blank=True, db_default="")
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200, blank=True, db_default="")
    tags = ArrayField(models.CharField(max_length=50), default=list, db_default=[], blank=True)
    custom_fields = models.JSONField(default=dict, db_default={}, blank=True)
    # Consent flags (GDPR/CAN-SPAM/TCPA): what the person agreed to be contacted by.
    consent_email = models.BooleanField(default=False, db_default=False)
    consent_sms = models.BooleanField(default=False, db_default=False)
    consent_phone = models.BooleanField(default=False, db_default=False)
    consent_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What search finds a contact by (ADR 0048): the words of the name and the primary email,
    # computed by PostgreSQL (crm migration 0012's crm_contact_words) on every write, however
    # the row is written; ``ContactWord`` holds the tenant's vocabulary of them.
    search_words = models.GeneratedField(
        expression=models.Func(
            "name",
            "email",
            function="crm_contact_words",
            output_field=ArrayField(models.TextField()),
        ),
        output_field=ArrayField(models.TextField()),
        db_persist=True,
    )

    class Meta:
        constraints = [
            # Stored lowercase (checked) and matched with plain equality: under row-level
            # security only leakproof operators can use an index, and lower() is not one.
            models.UniqueConstraint(fields=["tenant", "email"], name="crm_contact_email_once"),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="crm_contact_email_lowercase"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "company"], name="crm_contact_company"),
            models.Index(fields=["tenant", "name", "id"], name="crm_contact_name"),
            models.Index(fields=["tenant", "owner", "name", "id"], name="crm_contact_owner"),
            GinIndex(fields=["name"], name="crm_contact_name_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["search_words"], name="crm_contact_search_words", fastupdate=False),
            GinIndex(fields=["tags"], name="crm_contact_tags"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email


class ContactEmail(CrmRecord):
    """Every email address of a contact (the primary one too): one contact per address."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField()
    # The mailbox the address reaches (normalize.canonical_email: no +tag, Gmail's dots
    # ignored): two contacts sharing one are likely the same person.
    canonical = models.CharField(max_length=254, db_default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "email"], name="crm_contactemail_once"),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="crm_contactemail_lowercase"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "contact"], name="crm_contactemail_contact"),
            models.Index(fields=["tenant", "canonical"], name="crm_contactemail_canonical"),
        ]

    def __str__(self) -> str:
        return self.email


class ContactPhone(CrmRecord):
    """A phone number of a contact in E.164 (``+14155550100``), validated by phonenumbers.
    Not unique: a switchboard number is shared; the duplicate finder reads it."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20)
    label = models.CharField(max_length=30, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "contact", "number"], name="crm_contactphone_once"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "number"], name="crm_contactphone_number")]

    def __str__(self) -> str:
        return self.number


class ContactWord(CrmRecord):
    """The search vocabulary of a tenant's contacts (ADR 0048): every distinct word of their
    names and primary email addresses (``Contact.search_words``, generated by PostgreSQL from
    the two: letters only, 2-40 of them, lowercase). A search term becomes
    the few words here that equal it, start with it or resemble it (trigram index), and the
    contacts are then found by those exact words (GIN index on ``search_words``).

    Kept by triggers on ``crm_contact`` (crm migration 0012), in the statement that changes a
    contact whatever writes it: the services, the set-based import, a merge, an undo. A word
    goes when the last contact holding it is deleted or renamed. Binary ("C") collation: a
    prefix is a range of the unique index."""

    word = models.CharField(max_length=40, db_collation="C")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "word"], name="crm_contactword_once"),
        ]
        indexes = [
            GinIndex(
                fields=["word"],
                name="crm_contactword_trgm",
                opclasses=["gin_trgm_ops"],
                fastupdate=False,
            ),
        ]

    def __str__(self) -> str:
        return self.word


class ContactCompany(CrmRecord):
    """A contact's membership of a company; ``Contact.company`` is the primary one."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    title = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "contact", "company"], name="crm_contactcompany_once"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "company"], name="crm_contactcompany_company")]

    def __str__(self) -> str:
        return f"{self.contact_id} @ {self.company_id}"


# Sales and activities live in their own modules (one concept each); Django finds models
# through this module.
from autocrm.crm.models_activities import Activity, ActivityKind, ActivityTemplate  # noqa: E402
from autocrm.crm.models_deals import (  # noqa: E402
    Deal,
    DealAssignmentRule,
    DealKind,
    DealStatus,
    Pipeline,
    ScoringModel,
    ScoringRule,
    ScoringRuleKind,
    Stage,
)

__all__ = [
    "Activity",
    "ActivityKind",
    "ActivityTemplate",
    "Company",
    "CompanyDomain",
    "Contact",
    "ContactCompany",
    "ContactEmail",
    "ContactPhone",
    "ContactWord",
    "Deal",
    "DealAssignmentRule",
    "DealKind",
    "DealStatus",
    "Pipeline",
    "ScoringModel",
    "ScoringRule",
    "ScoringRuleKind",
    "Stage",
]


class Segment(CrmRecord):
    """A named group of contacts: ``filter`` segments are saved filters (their members are
    whoever matches now, crm.selectors.ContactFilters stored as JSON); ``static`` segments
    are lists whose members were added by hand or by an import (SegmentMember)."""

    class Kind(models.TextChoices):
        FILTER = "filter", "Saved filter"
        STATIC = "static", "Static list"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    filters = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("tenant", Lower("name"), name="crm_segment_name_once"),
        ]
        indexes = [models.Index(fields=["tenant", "name", "id"], name="crm_segment_name")]

    def __str__(self) -> str:
        return self.name


class SegmentMember(CrmRecord):
    """A contact on a static segment (a merge moves it to the kept contact, or drops it
    when the kept one is already on the list)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "segment", "contact"], name="crm_segmentmember_once"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "contact"], name="crm_segmentmember_contact")]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.segment_id}"


class ContactImport(CrmRecord):
    """One upload of a CSV or XLSX file of contacts (autocrm.crm.imports): checked and
    previewed first, then run by the worker, then possibly undone. ``errors`` is the per-row
    report: ``[{"row": 3, "column": "email", "message": "..."}]`` (row 1 is the header)."""

    class Status(models.TextChoices):
        PREVIEW = "preview", "Waiting for confirmation"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        UNDONE = "undone", "Undone"

    class Dedupe(models.TextChoices):
        SKIP = "skip", "Skip rows matching a contact"
        UPDATE = "update", "Update the matching contact"
        CREATE = "create", "Create new contacts (duplicates allowed where possible)"

    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10)  # csv / xlsx
    file_path = models.CharField(max_length=500)  # in default storage; deleted after the run
    file_size = models.BigIntegerField(default=0)
    encoding = models.CharField(max_length=40, blank=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)  # column index (as text) -> field name
    dedupe = models.CharField(max_length=10, choices=Dedupe.choices, default=Dedupe.SKIP)
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    total_rows = models.IntegerField(default=0)
    processed_rows = models.IntegerField(default=0)
    created_count = models.IntegerField(default=0)
    updated_count = models.IntegerField(default=0)
    skipped_count = models.IntegerField(default=0)
    error_count = models.IntegerField(default=0)
    errors = models.JSONField(default=list)
    failure = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="crm_import_created")]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.file_name})"


class ContactImportRecord(CrmRecord):
    """What one import did to one contact, so it can be undone: ``created`` contacts are
    deleted, ``updated`` ones get back the values in ``before``."""

    contact_import = models.ForeignKey(
        ContactImport, on_delete=models.CASCADE, related_name="records"
    )
    contact = models.ForeignKey(Contact, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=10)  # created / updated
    before = models.JSONField(default=dict)
    # The file's line that created or first changed the contact (the header is 1): a chunk
    # written twice would repeat it, which the constraint refuses.
    row = models.IntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "contact_import"], name="crm_importrecord_import")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "contact_import", "row"], name="crm_importrecord_row_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.contact_id}"
