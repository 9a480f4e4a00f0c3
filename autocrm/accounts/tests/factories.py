from __future__ import annotations

import factory

from autocrm.accounts.models import User

DEFAULT_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


def member(tenant, role: str = "agent", **user_kwargs):  # type: ignore[no-untyped-def]
    """A user with a membership in ``tenant`` (created through the service)."""
    from autocrm.accounts.services import membership_create

    user = UserFactory(**user_kwargs)
    membership_create(tenant=tenant, actor=None, user=user, role=role)
    return user
