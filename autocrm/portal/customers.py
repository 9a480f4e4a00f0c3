"""Customer accounts of a help centre: sign-up under the tenant's policy, e-mail
verification, profile. A sign-up never creates a tenant (ADR 0016).

The verification link carries a signed token (user, tenant, address; three days). Only a
verified address becomes a customer membership and is linked to the tenant's contact with
that address, so signing up with someone else's address never shows their requests. The
link never signs anyone in: a password (and two-factor, where on) still guards the account.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from autocrm.accounts import services as account_services
from autocrm.accounts.models import Invitation, Membership, User
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Contact
from autocrm.crm.services import contact_get_or_create, contact_link_user
from autocrm.portal import events
from autocrm.portal.branding import Branding

VERIFY_SALT = "autocrm.portal.verify-email"
VERIFY_MAX_AGE = 3 * 24 * 3600


@dataclass(frozen=True)
class Verified:
    user: User
    membership: Membership
    already_member: bool


def help_url(tenant: Tenant, path: str) -> str:
    """An absolute link into the tenant's help centre for e-mails (the custom domain's
    address when one is set: the proxy maps it to /<slug>/help/)."""
    domain = str(tenant.setting("help_custom_domain") or "")
    prefix = reverse("portal:home", args=[tenant.slug])
    if domain:
        scheme = settings.SITE_URL.split("://", 1)[0]
        return f"{scheme}://{domain}/{path.removeprefix(prefix)}"
    return f"{settings.SITE_URL}{path}"


def signup_allowed(*, tenant: Tenant, email: str) -> None:
    """Raise a ValidationError saying why ``email`` may not sign up here, if it may not."""
    policy = tenant.setting("help_signup_policy")
    if policy == "open":
        return
    if policy == "domain":
        domain = email.rsplit("@", 1)[-1].lower()
        if domain in tenant.setting("help_signup_domains"):
            return
        raise ValidationError(
            {"email": "Accounts here are for addresses of the organisation's own domains."}
        )
    with tenant_context(tenant):
        invited = Invitation.objects.filter(
            tenant=tenant, email=email, accepted_at=None, revoked_at=None
        ).exists()
    message = "This help centre is by invitation only."
    if invited:
        message += " Use the link in the invitation you were sent."
    raise ValidationError({"email": message})


def customer_signup(*, tenant: Tenant, email: str, name: str, password: str) -> None:
    """Ask ``email`` to confirm a customer account here. A new address gets a user with this
    password; a known one keeps its password (the e-mail says so). Either way the visitor
    sees the same "check your inbox" answer, so the form does not reveal who has an account."""
    email = email.strip().lower()
    validate_email(email)
    signup_allowed(tenant=tenant, email=email)
    user = User.objects.filter(email__lower=email).first()
    if user is None:
        validate_password(password, User(email=email, name=name))
        with transaction.atomic():
            user = account_services.user_create(email=email, password=password, name=name.strip())
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
        existing = False
    else:
        existing = True
    token = signing.dumps({"u": user.pk, "t": tenant.pk, "e": email}, salt=VERIFY_SALT)
    link = help_url(tenant, reverse("portal:verify", args=[tenant.slug, token]))
    branding = Branding(tenant)
    context = {"name": branding.name, "link": link, "existing": existing, "user": user}
    send_mail(
        subject=f"Confirm your {branding.name} account",
        message=render_to_string("help/email/verify.txt", context),
        from_email=None,
        recipient_list=[email],
    )


def customer_verify(*, tenant: Tenant, token: str) -> Verified:
    """Confirm the address of a sign-up link: it becomes a verified customer of ``tenant``
    linked to the tenant's contact with that address. Re-opening the link changes nothing."""
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ValidationError(
            "This confirmation link has expired. Sign up again to get a new one."
        ) from exc
    except signing.BadSignature as exc:
        raise ValidationError("This confirmation link is not valid.") from exc
    if data.get("t") != tenant.pk:
        raise ValidationError("This confirmation link is not valid.")
    user = User.objects.filter(pk=data.get("u"), email__lower=data.get("e")).first()
    if user is None or not user.is_active:
        raise ValidationError("This confirmation link is not valid.")
    with transaction.atomic():
        address, _ = EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"primary": True}
        )
        if not address.verified:
            address.verified = True
            address.save(update_fields=["verified"])
        with tenant_context(tenant):
            existing = Membership.objects.filter(tenant=tenant, user=user).first()
            membership = existing or account_services.membership_join_as_customer(
                tenant=tenant, user=user
            )
            actor = Actor.for_user(user, role=membership.role, tenant_id=tenant.pk)
            contact = Contact.objects.filter(tenant=tenant, user=user).first()
            if contact is None:
                contact, _ = contact_get_or_create(
                    tenant=tenant, actor=actor, email=user.email, name=user.name
                )
                contact_link_user(tenant=tenant, actor=actor, contact=contact, user=user)
    return Verified(user=user, membership=membership, already_member=existing is not None)


def customer_profile_update(*, tenant: Tenant, actor: Actor, name: str) -> User:
    """A signed-in person changes their name (on the account and on this tenant's contact)."""
    user = actor.user
    if user is None or not isinstance(user, User):
        raise ValidationError("Sign in first.")
    name = name.strip()
    if len(name) > 200:
        raise ValidationError({"name": "Use at most 200 characters."})
    with transaction.atomic(), tenant_context(tenant):
        old = user.name
        if old == name:
            return user
        user.name = name
        user.save(update_fields=["name"])
        contact = Contact.objects.filter(tenant=tenant, user=user).first()
        if contact is not None:
            Contact.objects.filter(tenant=tenant, pk=contact.pk).update(name=name)
        event_append(
            tenant=tenant,
            type=events.CUSTOMER_PROFILE_UPDATED,
            subject=contact if contact is not None else tenant,
            actor=actor,
            payload={"user_id": user.pk, "changes": {"name": {"from": old, "to": name}}},
        )
    return user
