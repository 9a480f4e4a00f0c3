"""Event types the CRM app emits."""

CONTACT_CREATED = "contact.created"
CONTACT_USER_LINKED = "contact.user_linked"

EVENT_TYPES = (CONTACT_CREATED, CONTACT_USER_LINKED)
