"""Tenants with solved, categorised tickets to train triage on (real services)."""

from __future__ import annotations

from autocrm.ai.tests.samples import SAMPLES
from autocrm.core.models import Tenant
from autocrm.tickets import config_services
from autocrm.tickets.tests.factories import SYSTEM, ticket

ADMIN = SYSTEM


def category_field(tenant: Tenant) -> None:
    config_services.custom_field_create(
        tenant=tenant,
        actor=SYSTEM,
        label="Category",
        key="category",
        field_type="dropdown",
        options=sorted(SAMPLES),
    )


def solved_history(tenant: Tenant) -> None:
    """One solved ticket per sample text, its category set as agents would have."""
    for label, texts in SAMPLES.items():
        for text in texts:
            ticket(
                tenant,
                subject=text,
                body=f"Hello, {text.lower()} Thanks.",
                status="solved",
                custom_fields={"category": label},
            )
