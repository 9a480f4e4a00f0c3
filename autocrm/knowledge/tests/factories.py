from __future__ import annotations

from typing import Any

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.knowledge import services
from autocrm.knowledge.models import Article, Category

SYSTEM = Actor.system("tests")


def article(tenant: Tenant, actor: Actor = SYSTEM, **overrides: Any) -> Article:
    """A published public article, created through the service (vector, version, events)."""
    values: dict[str, Any] = {
        "title": "How to reset your password",
        "body": "Open **Settings**, choose *Security* and click `Reset password`.\n\n"
        "We send you an email with a link that works for one hour.",
        "locale": "en",
        "state": "published",
    }
    values.update(overrides)
    return services.article_create(tenant=tenant, actor=actor, **values)


def category(tenant: Tenant, actor: Actor = SYSTEM, **overrides: Any) -> Category:
    values: dict[str, Any] = {"name": "Account and login", "description": "Signing in."}
    values.update(overrides)
    return services.category_create(tenant=tenant, actor=actor, **values)
