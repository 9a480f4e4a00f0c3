"""Customer notification templates API: staff read, admins write (a wrong template syntax
is a 422 naming the field, and nothing is stored)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from autocrm.core.api import RequestSchema, require
from autocrm.core.problems import NotFound
from autocrm.inboxes import notification_templates as nt

router = Router(tags=["notification templates"])


class NotificationTemplateOut(Schema):
    kind: str = Field(description="ticket_received, agent_replied or ticket_solved.")
    locale: str = Field(description="Language tag, e.g. `de`.")
    subject: str
    body: str = Field(description="Plain text with Django template syntax.")
    custom: bool = Field(description="False: the built-in default (no template of the tenant).")


class NotificationTemplateIn(RequestSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "Got it: {{ ticket.subject }} [#{{ ticket.number }}]",
                    "body": "Hi {{ requester.name }},\n\nwe are on it.",
                }
            ]
        }
    )

    subject: str = Field(max_length=300)
    body: str = Field(max_length=20000)


def _path(kind: str, locale: str) -> tuple[str, str]:
    """The URL names a resource: an unknown kind or a malformed language is a 404."""
    locale = nt.locale_normalize(locale)
    if kind not in nt.KINDS or not nt.LOCALE_TAG.match(locale):
        raise NotFound(
            f"No notification template {kind}/{locale}; kinds: {', '.join(nt.KINDS)}.",
            type_="not-found",
        )
    return kind, locale


def _out(template: nt.Template) -> dict[str, Any]:
    return {
        "kind": template.kind,
        "locale": template.locale,
        "subject": template.subject,
        "body": template.body,
        "custom": template.custom,
    }


@router.get(
    "",
    response=list[NotificationTemplateOut],
    summary="List notification templates",
    description="Every kind in every offered language, the tenant's own or the default. "
    "Staff only.",
)
def notification_templates_list(request: HttpRequest) -> Any:
    who = require(request, "read")
    return [_out(t) for t in nt.template_list(tenant=who.tenant, actor=who.actor)]


@router.get(
    "/{kind}/{locale}",
    response=NotificationTemplateOut,
    summary="Get a notification template",
    description="The tenant's template of this kind and language, else the built-in one. "
    "Staff only.",
)
def notification_templates_get(request: HttpRequest, kind: str, locale: str) -> Any:
    who = require(request, "read")
    kind, locale = _path(kind, locale)
    return _out(nt.template_get(tenant=who.tenant, actor=who.actor, kind=kind, locale=locale))


@router.put(
    "/{kind}/{locale}",
    response=NotificationTemplateOut,
    summary="Set a notification template",
    description="Stores the tenant's wording. 422 when the subject or body is not valid "
    "template syntax. Admin only.",
)
def notification_templates_put(
    request: HttpRequest, kind: str, locale: str, payload: NotificationTemplateIn
) -> Any:
    who = require(request, "admin")
    kind, locale = _path(kind, locale)
    return _out(
        nt.template_save(
            tenant=who.tenant,
            actor=who.actor,
            kind=kind,
            locale=locale,
            subject=payload.subject,
            body=payload.body,
        )
    )


@router.delete(
    "/{kind}/{locale}",
    response=NotificationTemplateOut,
    summary="Reset a notification template",
    description="Back to the built-in default; returns it. Admin only.",
)
def notification_templates_reset(request: HttpRequest, kind: str, locale: str) -> Any:
    who = require(request, "admin")
    kind, locale = _path(kind, locale)
    return _out(nt.template_reset(tenant=who.tenant, actor=who.actor, kind=kind, locale=locale))
