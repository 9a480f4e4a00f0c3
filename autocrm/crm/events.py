"""The event types the CRM app appends (webhook subscriptions validate against them).

Services use these constants, never the strings; CrmConfig.ready registers ``EVENT_TYPES``.
"""

from __future__ import annotations

CONTACT_CREATED = "contact.created"
CONTACT_UPDATED = "contact.updated"
CONTACT_DELETED = "contact.deleted"
CONTACT_MERGED = "contact.merged"  # the duplicate, now pointing at the kept contact
CONTACT_USER_LINKED = "contact.user_linked"
COMPANY_CREATED = "company.created"
COMPANY_UPDATED = "company.updated"
COMPANY_DELETED = "company.deleted"
COMPANY_MERGED = "company.merged"

EVENT_TYPES = (
    CONTACT_CREATED,
    CONTACT_UPDATED,
    CONTACT_DELETED,
    CONTACT_MERGED,
    CONTACT_USER_LINKED,
    COMPANY_CREATED,
    COMPANY_UPDATED,
    COMPANY_DELETED,
    COMPANY_MERGED,
)
