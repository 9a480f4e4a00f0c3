"""Request and response schemas of the contacts and companies API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from autocrm.core.api import PatchSchema, RequestSchema
from autocrm.crm.normalize import phone_display

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Tags = Annotated[list[Annotated[str, Field(max_length=50)]], Field(max_length=50)]
Emails = Annotated[list[Annotated[str, Field(max_length=254)]], Field(max_length=20)]
ContactSort = Literal["name", "-created_at"]
CompanySort = Literal["name", "-created_at"]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class CrmRefOut(Schema):
    id: int
    name: str


class CrmUserRefOut(Schema):
    id: int
    email: str
    name: str


class PhoneIn(RequestSchema):
    number: str = Field(
        max_length=40,
        description="International (+44 20 7946 0958) or local "
        "to the workspace's phone region; stored as E.164.",
    )
    label: str = Field(default="", max_length=30)


class PhoneOut(Schema):
    number: str = Field(description="E.164.")
    display: str
    label: str

    @staticmethod
    def resolve_display(obj: Any) -> str:
        return phone_display(obj.number)


def _user(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "email": user.email, "name": user.name}


class ContactOut(Schema):
    model_config = _examples(
        {
            "id": 7,
            "name": "Pat Doe",
            "email": "pat@example.com",
            "emails": ["pat@example.com", "pat.doe@gmail.com"],
            "phones": [{"number": "+14155550100", "display": "+1 415-555-0100", "label": "work"}],
            "title": "CTO",
            "locale": "de",
            "company": {"id": 3, "name": "Example Inc"},
            "companies": [{"id": 3, "name": "Example Inc"}],
            "owner": None,
            "tags": ["vip"],
            "custom_fields": {"plan": "pro"},
            "consent_email": True,
            "consent_sms": False,
            "consent_phone": False,
            "consent_updated_at": "2026-01-02T10:00:00Z",
            "created_at": "2026-01-02T10:00:00Z",
            "updated_at": "2026-01-02T10:00:00Z",
        }
    )

    id: int
    name: str
    email: str = Field(description="The primary address.")
    emails: list[str] = Field(description="Every address, the primary one first.")
    phones: list[PhoneOut]
    title: str
    locale: str = Field(
        description="The language of customer e-mails (e.g. de, fr-ca); "
        "empty: the workspace's default."
    )
    company: CrmRefOut | None = Field(description="The primary company.")
    companies: list[CrmRefOut]
    owner: CrmUserRefOut | None
    tags: list[str]
    custom_fields: dict[str, Any]
    consent_email: bool
    consent_sms: bool
    consent_phone: bool
    consent_updated_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_emails(obj: Any) -> list[str]:
        others = sorted(e.email for e in obj.emails.all() if e.email != obj.email)
        return [obj.email, *others]

    @staticmethod
    def resolve_phones(obj: Any) -> list[Any]:
        return sorted(obj.phones.all(), key=lambda p: (p.number != obj.phone, p.pk))

    @staticmethod
    def resolve_company(obj: Any) -> dict[str, Any] | None:
        c = obj.company
        return None if c is None else {"id": c.pk, "name": c.name}

    @staticmethod
    def resolve_companies(obj: Any) -> list[dict[str, Any]]:
        rows = sorted(obj.memberships.all(), key=lambda m: (m.company_id != obj.company_id, m.pk))
        return [{"id": m.company_id, "name": m.company.name} for m in rows]

    @staticmethod
    def resolve_owner(obj: Any) -> dict[str, Any] | None:
        return _user(obj.owner)


class ContactIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Pat Doe", "email": "pat@example.com"}]},
    )

    email: str = Field(max_length=254, description="The primary address.")
    name: str = Field(default="", max_length=200)
    emails: Emails = Field(default_factory=list, description="More addresses.")
    phones: list[PhoneIn] = Field(default_factory=list, max_length=20)
    title: str = Field(default="", max_length=200)
    locale: str = Field(
        default="", max_length=10, description="The language of customer e-mails (de, fr-CA)."
    )
    company_id: Id | None = Field(
        default=None, description="The primary company (default: the one of the email domain)."
    )
    company_ids: list[Id] = Field(default_factory=list, max_length=50)
    owner_id: Id | None = None
    tags: Tags = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    consent_email: bool = False
    consent_sms: bool = False
    consent_phone: bool = False


class ContactUpdateIn(PatchSchema):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"company_id", "owner_id"})

    email: str | None = Field(default=None, max_length=254)
    name: str | None = Field(default=None, max_length=200)
    emails: Emails | None = Field(default=None, description="Replaces the other addresses.")
    phones: list[PhoneIn] | None = Field(default=None, max_length=20)
    title: str | None = Field(default=None, max_length=200)
    locale: str | None = Field(default=None, max_length=10)
    company_id: Id | None = None
    company_ids: list[Id] | None = Field(default=None, max_length=50)
    owner_id: Id | None = None
    tags: Tags | None = None
    custom_fields: dict[str, Any] | None = None
    consent_email: bool | None = None
    consent_sms: bool | None = None
    consent_phone: bool | None = None


class ContactListFilters(Schema):
    q: str = Field(default="", max_length=200, description="Name, email or phone number.")
    company_id: Id | None = Field(default=None, description="Contacts of this company.")
    owner: str | None = Field(default=None, description="A user id, `me` or `none`.")
    tag: str | None = Field(default=None, description="Tags the contact has, comma-separated.")
    sort: ContactSort = "name"


class CompanyOut(Schema):
    model_config = _examples(
        {
            "id": 3,
            "name": "Example Inc",
            "domains": ["example.com"],
            "parent": None,
            "owner": None,
            "tags": ["enterprise"],
            "custom_fields": {},
            "created_at": "2026-01-02T10:00:00Z",
            "updated_at": "2026-01-02T10:00:00Z",
        }
    )

    id: int
    name: str
    domains: list[str] = Field(description="The primary domain first.")
    parent: CrmRefOut | None
    owner: CrmUserRefOut | None
    tags: list[str]
    custom_fields: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_domains(obj: Any) -> list[str]:
        others = sorted(d.domain for d in obj.domains.all() if d.domain != obj.domain)
        return [obj.domain, *others] if obj.domain else others

    @staticmethod
    def resolve_parent(obj: Any) -> dict[str, Any] | None:
        p = obj.parent
        return None if p is None else {"id": p.pk, "name": p.name}

    @staticmethod
    def resolve_owner(obj: Any) -> dict[str, Any] | None:
        return _user(obj.owner)


class CompanyIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Example Inc", "domains": ["example.com"]}]},
    )

    name: str = Field(min_length=1, max_length=200)
    domains: list[Annotated[str, Field(max_length=253)]] = Field(
        default_factory=list, max_length=20, description="Contacts at these domains are linked."
    )
    parent_id: Id | None = None
    owner_id: Id | None = None
    tags: Tags = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class CompanyUpdateIn(PatchSchema):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"parent_id", "owner_id"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    domains: list[Annotated[str, Field(max_length=253)]] | None = Field(default=None, max_length=20)
    parent_id: Id | None = None
    owner_id: Id | None = None
    tags: Tags | None = None
    custom_fields: dict[str, Any] | None = None


class CompanyListFilters(Schema):
    q: str = Field(default="", max_length=200, description="Name or domain.")
    owner: str | None = Field(default=None, description="A user id, `me` or `none`.")
    tag: str | None = Field(default=None, description="Tags the company has, comma-separated.")
    parent_id: Id | None = Field(default=None, description="Subsidiaries of this company.")
    sort: CompanySort = "name"


class RecordMergeIn(RequestSchema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"duplicate_id": 8}]})

    duplicate_id: Id = Field(description="The record merged into this one, then deleted.")


class ContactDuplicateOut(Schema):
    contact: ContactOut
    reasons: list[str]
    score: float

    @staticmethod
    def resolve_contact(obj: Any) -> Any:
        return obj.record


class CompanyDuplicateOut(Schema):
    company: CompanyOut
    reasons: list[str]
    score: float

    @staticmethod
    def resolve_company(obj: Any) -> Any:
        return obj.record
