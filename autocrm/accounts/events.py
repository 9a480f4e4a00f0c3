"""Event types the accounts app emits (tenants, memberships, invitations, API keys)."""

TENANT_CREATED = "tenant.created"
TENANT_SETTINGS_UPDATED = "tenant.settings_updated"
MEMBERSHIP_CREATED = "membership.created"
MEMBERSHIP_ROLE_CHANGED = "membership.role_changed"
MEMBERSHIP_REMOVED = "membership.removed"
INVITATION_CREATED = "invitation.created"
INVITATION_ACCEPTED = "invitation.accepted"
INVITATION_REVOKED = "invitation.revoked"
API_KEY_CREATED = "api_key.created"
API_KEY_REVOKED = "api_key.revoked"
# QR login (autocrm.accounts.qr_login): appended in every tenant of the approving user.
QR_LOGIN_APPROVED = "qr_login.approved"
QR_LOGIN_DENIED = "qr_login.denied"
QR_LOGIN_SIGNED_IN = "qr_login.signed_in"

EVENT_TYPES = (
    TENANT_CREATED,
    TENANT_SETTINGS_UPDATED,
    MEMBERSHIP_CREATED,
    MEMBERSHIP_ROLE_CHANGED,
    MEMBERSHIP_REMOVED,
    INVITATION_CREATED,
    INVITATION_ACCEPTED,
    INVITATION_REVOKED,
    API_KEY_CREATED,
    API_KEY_REVOKED,
    QR_LOGIN_APPROVED,
    QR_LOGIN_DENIED,
    QR_LOGIN_SIGNED_IN,
)
