"""A saved filter's JSON (crm.models.Segment.filters) and the ContactFilters it stands for.

Stored as the same keys the contacts API takes (``q``, ``company_id``, ``owner``, ``tags``,
``consent_email``), validated on the way in so a saved segment never fails later."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from autocrm.crm.selectors import ContactFilters

FILTER_KEYS = ("q", "company_id", "owner", "tags", "consent_email")


def clean_segment_filters(raw: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationError({"filters": "Filters are an object."})
    unknown = sorted(set(raw) - set(FILTER_KEYS))
    if unknown:
        raise ValidationError(
            {"filters": f"Unknown filter {unknown[0]!r}; use {', '.join(FILTER_KEYS)}."}
        )
    cleaned: dict[str, Any] = {}
    q = raw.get("q") or ""
    if not isinstance(q, str) or len(q) > 200:
        raise ValidationError({"filters": "q is text of at most 200 characters."})
    if q.strip():
        cleaned["q"] = q.strip()
    company_id = raw.get("company_id")
    if company_id is not None:
        if not isinstance(company_id, int) or isinstance(company_id, bool) or company_id < 1:
            raise ValidationError({"filters": "company_id is a company's id."})
        cleaned["company_id"] = company_id
    owner = raw.get("owner") or ""
    if owner:
        if not isinstance(owner, str) or not (owner in {"me", "none"} or owner.isdigit()):
            raise ValidationError({"filters": "owner is a user id, 'me' or 'none'."})
        cleaned["owner"] = owner
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 50 for t in tags):
        raise ValidationError({"filters": "tags is a list of words."})
    tags = [t.strip().lower() for t in tags if t.strip()]
    if tags:
        cleaned["tags"] = tags[:20]
    consent = raw.get("consent_email")
    if consent is not None:
        if not isinstance(consent, bool):
            raise ValidationError({"filters": "consent_email is true or false."})
        cleaned["consent_email"] = consent
    if not cleaned:
        raise ValidationError({"filters": "A saved filter needs at least one filter."})
    return cleaned


def contact_filters_of(filters: dict[str, Any]) -> ContactFilters:
    return ContactFilters(
        q=filters.get("q", ""),
        company_id=filters.get("company_id"),
        owner=filters.get("owner", ""),
        tags=list(filters.get("tags", [])),
        consent_email=filters.get("consent_email"),
    )
