"""Validation of ticket field values, shared by every ticket write."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError

from autocrm.accounts.models import Membership, Role
from autocrm.core.config_cache import tenant_config_cached
from autocrm.core.models import Tenant
from autocrm.crm.models import Company
from autocrm.routing.models import Team
from autocrm.tickets.models import PRIORITY_BY_NAME, CustomField

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_:\-.]{0,49}$")
EDITABLE_FIELDS = frozenset(
    {
        "subject",
        "status",
        "priority",
        "type",
        "assignee_id",
        "team_id",
        "tags",
        "custom_fields",
        "metadata",
        "due_at",
        "organization_id",
    }
)
ASSIGNABLE_ROLES = (Role.OWNER, Role.ADMIN, Role.AGENT)


def clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in tags:
        if not isinstance(raw, str):
            raise ValidationError({"tags": "Tags must be strings."})
        tag = raw.strip().lower().replace(" ", "-")
        if not TAG_PATTERN.match(tag):
            raise ValidationError(
                {
                    "tags": f"'{raw}' is not a valid tag (letters, digits, "
                    "- _ : . ; at most 50 characters)."
                }
            )
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > 50:
        raise ValidationError({"tags": "A ticket has at most 50 tags."})
    return cleaned


def clean_priority(value: Any) -> int:
    if isinstance(value, str) and value in PRIORITY_BY_NAME:
        return PRIORITY_BY_NAME[value]
    raise ValidationError(
        {"priority": f"Unknown priority '{value}'; use one of {', '.join(PRIORITY_BY_NAME)}."}
    )


def clean_choice(field: str, value: Any, choices: Iterable[str], *, blank: bool = False) -> str:
    allowed = list(choices)
    if (blank and value == "") or value in allowed:
        return str(value)
    raise ValidationError({field: f"Unknown {field} '{value}'; use one of {', '.join(allowed)}."})


def clean_assignee(tenant: Tenant, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    if not Membership.objects.filter(
        tenant=tenant, user_id=user_id, role__in=ASSIGNABLE_ROLES
    ).exists():
        raise ValidationError({"assignee_id": "Not an agent of this tenant."})
    return user_id


def clean_team(tenant: Tenant, team_id: int | None) -> int | None:
    if team_id is None:
        return None
    if not Team.objects.filter(tenant=tenant, pk=team_id).exists():
        raise ValidationError({"team_id": "No such team."})
    return team_id


def clean_organization(tenant: Tenant, company_id: int | None) -> int | None:
    if company_id is None:
        return None
    if not Company.objects.filter(tenant=tenant, pk=company_id).exists():
        raise ValidationError({"organization_id": "No such company."})
    return company_id


def custom_field_definitions(tenant: Tenant) -> dict[str, CustomField]:
    """Cached per process until the definitions change (config_services bump the stamp)."""
    return tenant_config_cached(
        tenant,
        "tickets.custom_fields",
        lambda: {f.key: f for f in CustomField.objects.filter(tenant=tenant)},
    )


def json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def priority_name(rank: int) -> str:
    return next(name for name, value in PRIORITY_BY_NAME.items() if value == rank)
