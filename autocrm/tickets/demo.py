"""The demo tenant's shared macros (``manage.py seed_demo``), so "apply a macro" works on the
first visit. Only while the tenant has no macro."""

from __future__ import annotations

from typing import Any

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.tickets import config_selectors, config_services

MACROS: tuple[tuple[str, str, list[dict[str, Any]], str], ...] = (
    (
        "Ask for details",
        "Ask the customer for what we need and wait for the answer.",
        [{"field": "status", "value": "pending"}, {"field": "tags_add", "value": ["needs-info"]}],
        "Hi {{ requester.name }},\n\nthanks for reaching out. Could you tell us which device "
        "and version you use, and send a screenshot of the problem?\n\n{{ agent.name }}",
    ),
    (
        "Solved: thank you",
        "Close the loop politely and solve the ticket.",
        [{"field": "status", "value": "solved"}],
        "Hi {{ requester.name }},\n\nglad this is sorted. If anything else comes up, just "
        "reply to this e-mail and ticket #{{ ticket.number }} reopens.\n\n{{ agent.name }}",
    ),
)


def seed(*, tenant: Tenant, actor: Actor) -> list[str]:
    if config_selectors.macro_list(tenant=tenant, actor=actor).exists():
        return []
    for name, description, actions, reply in MACROS:
        config_services.macro_create(
            tenant=tenant,
            actor=actor,
            name=name,
            description=description,
            actions=actions,
            reply_body=reply,
            shared=True,
        )
    return [f"{len(MACROS)} macros"]
