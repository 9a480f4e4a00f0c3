"""Request and response schemas of the accounts API."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from autocrm.core.api import RequestSchema

if TYPE_CHECKING:
    from autocrm.accounts.models import ApiKey, Invitation, Membership

InvitableRole = Literal["admin", "agent", "light_agent", "customer"]
MemberRole = Literal["owner", "admin", "agent", "light_agent", "customer"]
Scope = Literal["read", "write", "admin"]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class TenantOut(Schema):
    model_config = _examples({"slug": "acme", "name": "Acme Inc."})

    slug: str
    name: str


class UserRefOut(Schema):
    model_config = _examples({"id": 7, "email": "ada@acme.test", "name": "Ada Lovelace"})

    id: int
    email: str
    name: str


class ApiKeyRefOut(Schema):
    model_config = _examples(
        {"id": 3, "name": "Zapier", "prefix": "1f2e3d4c5b6a", "scope": "write"}
    )

    id: int
    name: str
    prefix: str
    scope: Scope


class MeOut(Schema):
    """The caller: a signed-in user (``user``, ``role``) or an API key (``api_key``)."""

    model_config = _examples(
        {
            "tenant": {"slug": "acme", "name": "Acme Inc."},
            "user": {"id": 7, "email": "ada@acme.test", "name": "Ada Lovelace"},
            "api_key": None,
            "role": "admin",
            "access": "admin",
        }
    )

    tenant: TenantOut
    user: UserRefOut | None
    api_key: ApiKeyRefOut | None
    role: str | None = Field(description="The user's role in the tenant (null for a key).")
    access: Scope = Field(description="Effective access: read < write < admin.")


class MemberOut(Schema):
    model_config = _examples(
        {
            "id": 7,
            "email": "ada@acme.test",
            "name": "Ada Lovelace",
            "role": "agent",
            "joined_at": "2026-01-05T09:30:00Z",
        }
    )

    id: int = Field(description="The user id.")
    email: str
    name: str
    role: str
    joined_at: dt.datetime

    # Built from a Membership: the person's fields come from its user.
    @staticmethod
    def resolve_id(obj: Membership) -> int:
        return obj.user_id

    @staticmethod
    def resolve_email(obj: Membership) -> str:
        return obj.user.email

    @staticmethod
    def resolve_name(obj: Membership) -> str:
        return obj.user.name

    @staticmethod
    def resolve_joined_at(obj: Membership) -> dt.datetime:
        return obj.created_at


class MemberRoleIn(RequestSchema):
    model_config = _examples({"role": "admin"})

    role: MemberRole


class InvitationIn(RequestSchema):
    model_config = _examples({"email": "grace@acme.test", "role": "agent"})

    email: str = Field(max_length=254)
    role: InvitableRole = "agent"

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        try:
            validate_email(value.strip())
        except ValidationError as exc:
            raise ValueError("Enter a valid email address.") from exc
        return value.strip().lower()


class InvitationOut(Schema):
    model_config = _examples(
        {
            "id": 12,
            "email": "grace@acme.test",
            "role": "agent",
            "invited_by": "ada@acme.test",
            "created_at": "2026-01-05T09:30:00Z",
            "expires_at": "2026-01-12T09:30:00Z",
        }
    )

    id: int
    email: str
    role: str
    invited_by: str | None = Field(
        description="Email of the inviting user (null: an API key or the system)."
    )
    created_at: dt.datetime
    expires_at: dt.datetime

    @staticmethod
    def resolve_invited_by(obj: Invitation) -> str | None:
        return obj.invited_by.email if obj.invited_by is not None else None


class ApiKeyIn(RequestSchema):
    model_config = _examples({"name": "Zapier", "scope": "write"})

    name: str = Field(min_length=1, max_length=100)
    scope: Scope = "read"


class ApiKeyOut(Schema):
    model_config = _examples(
        {
            "id": 3,
            "name": "Zapier",
            "prefix": "1f2e3d4c5b6a",
            "scope": "write",
            "created_by": "ada@acme.test",
            "created_at": "2026-01-05T09:30:00Z",
            "last_used_at": None,
            "revoked_at": None,
        }
    )

    id: int
    name: str
    prefix: str
    scope: Scope
    created_by: str | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @staticmethod
    def resolve_created_by(obj: ApiKey) -> str | None:
        return obj.created_by.email if obj.created_by is not None else None


class ApiKeyCreatedOut(ApiKeyOut):
    model_config = _examples(
        {
            "id": 3,
            "name": "Zapier",
            "prefix": "1f2e3d4c5b6a",
            "scope": "write",
            "created_by": "ada@acme.test",
            "created_at": "2026-01-05T09:30:00Z",
            "last_used_at": None,
            "revoked_at": None,
            "key": "acrm_1f2e3d4c5b6a_Zq3...",
        }
    )

    key: str = Field(description="The full key. Shown once: only its hash is stored.")
