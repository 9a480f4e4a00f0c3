from __future__ import annotations

from typing import Any, cast

import factory

from autocrm.accounts.models import User
from autocrm.core.actors import Actor

DEFAULT_PASSWORD = "correct-horse-battery"
# What tests act as when the actor is not the point (setting up rows): a named system actor.
SYSTEM = Actor.system("tests")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    # Save once more after set_password (skip_postgeneration_save leaves that to us).
    _save = factory.PostGeneration(
        lambda obj, create, extracted, **kw: obj.save() if create else None
    )


def member(tenant, role: str = "agent", **user_kwargs):  # type: ignore[no-untyped-def]
    """A user with a membership in ``tenant`` (created through the service)."""
    from autocrm.accounts.services import membership_create

    user = cast(User, UserFactory(**user_kwargs))
    membership_create(tenant=tenant, actor=SYSTEM, user=user, role=role)
    return user


def membership_of(tenant, user):  # type: ignore[no-untyped-def]
    """The user's membership row in ``tenant`` (read inside the tenant's context)."""
    from autocrm.accounts.selectors import membership_get
    from autocrm.core.tenancy import tenant_context

    with tenant_context(tenant):
        return membership_get(tenant=tenant, user_id=user.pk)


def invitation(tenant, email: str = "invitee@example.test", role: str = "agent"):  # type: ignore[no-untyped-def]
    """An open invitation and its one-time token (created through the service)."""
    from autocrm.accounts.services import invitation_create

    return invitation_create(tenant=tenant, actor=SYSTEM, email=email, role=role, send=False)


def api_key(tenant, scope: str = "admin", name: str = "test key") -> str:  # type: ignore[no-untyped-def]
    """A new API key of ``tenant`` (through the service); returns the raw key."""
    from autocrm.accounts.services import api_key_create

    _key, raw = api_key_create(tenant=tenant, actor=SYSTEM, name=name, scope=scope)
    return raw


def bearer(raw_key: str) -> dict[str, str]:
    """Test-client ``headers=`` that authenticate with ``raw_key``."""
    return {"Authorization": f"Bearer {raw_key}"}


def totp(secret: str, offset: int = 0) -> str:
    """The code an authenticator app shows for ``secret`` now (``offset`` 30-second periods
    later), computed with allauth's own HOTP implementation."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def make_user(**kwargs: Any) -> User:
    """A saved user (typed wrapper around UserFactory)."""
    return cast(User, UserFactory(**kwargs))


def actor_of(tenant, user) -> Actor:  # type: ignore[no-untyped-def]
    """``user`` acting with their role in ``tenant`` (as a request of theirs would)."""
    from autocrm.accounts.actors import actor_for_membership

    membership = membership_of(tenant, user)
    assert membership is not None, f"{user} is not a member of {tenant}"
    return actor_for_membership(membership)
