"""Every write of the CRM app, by concept: ``contacts``, ``companies``. Import from here."""

from autocrm.crm.services.companies import company_create, company_delete, company_update
from autocrm.crm.services.contacts import (
    PhoneInput,
    company_for_email,
    contact_create,
    contact_delete,
    contact_get_or_create,
    contact_link_user,
    contact_update,
)
from autocrm.crm.services.merge import company_merge, contact_merge

__all__ = [
    "PhoneInput",
    "company_create",
    "company_delete",
    "company_for_email",
    "company_merge",
    "company_update",
    "contact_create",
    "contact_delete",
    "contact_get_or_create",
    "contact_link_user",
    "contact_merge",
    "contact_update",
]
