"""Reads of the tenant's ticket configuration (tags, custom fields, saved views, macros): the
selectors beside config_services' writes."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from autocrm.core.actors import Actor
from autocrm.core.config_cache import tenant_config_cached
from autocrm.core.models import Tenant
from autocrm.tickets.models import CustomField, Macro, Tag, TicketView


def tag_list(*, tenant: Tenant, actor: Actor) -> QuerySet[Tag]:
    return Tag.objects.filter(tenant=tenant).order_by("name")


def tag_get(*, tenant: Tenant, actor: Actor, tag_id: int) -> Tag | None:
    return tag_list(tenant=tenant, actor=actor).filter(pk=tag_id).first()


def custom_field_list(*, tenant: Tenant, actor: Actor) -> QuerySet[CustomField]:
    return CustomField.objects.filter(tenant=tenant).order_by("position", "id")


def custom_fields_active(*, tenant: Tenant, actor: Actor) -> list[CustomField]:
    """The active definitions in display order, cached per process like the services' copy
    (the ticket page shows them on every view)."""
    definitions = tenant_config_cached(
        tenant,
        "tickets.custom_fields",
        lambda: {f.key: f for f in CustomField.objects.filter(tenant=tenant)},
    )
    return sorted((f for f in definitions.values() if f.active), key=lambda f: (f.position, f.pk))


def custom_field_get(*, tenant: Tenant, actor: Actor, field_id: int) -> CustomField | None:
    return custom_field_list(tenant=tenant, actor=actor).filter(pk=field_id).first()


def ticket_view_list(*, tenant: Tenant, actor: Actor) -> QuerySet[TicketView]:
    """Shared views and the actor's own."""
    views = TicketView.objects.filter(tenant=tenant)
    own = Q(owner_id=actor.user_id) if actor.user_id is not None else Q(pk__in=[])
    return views.filter(Q(owner__isnull=True) | own).order_by("position", "id")


def ticket_view_choices(*, tenant: Tenant, actor: Actor) -> list[tuple[int, str, str, str]]:
    """(id, name, query, sort) of ``ticket_view_list``'s views, for the queue's navigation on
    every queue page: read once per configuration stamp (the view services mark it)."""
    rows = tenant_config_cached(
        tenant,
        "tickets.views",
        lambda: list(
            TicketView.objects.filter(tenant=tenant)
            .order_by("position", "id")
            .values_list("pk", "name", "query", "sort", "owner_id")
        ),
    )
    return [
        (pk, name, query, sort)
        for pk, name, query, sort, owner_id in rows
        if owner_id is None or owner_id == actor.user_id
    ]


def ticket_view_get(*, tenant: Tenant, actor: Actor, view_id: int) -> TicketView | None:
    return ticket_view_list(tenant=tenant, actor=actor).filter(pk=view_id).first()


def macro_list(*, tenant: Tenant, actor: Actor, include_inactive: bool = False) -> QuerySet[Macro]:
    macros = Macro.objects.filter(tenant=tenant)
    if not include_inactive:
        macros = macros.filter(active=True)
    own = Q(owner_id=actor.user_id) if actor.user_id is not None else Q(pk__in=[])
    return macros.filter(Q(owner__isnull=True) | own).order_by("name", "id")


def macro_choices(*, tenant: Tenant, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of ``macro_list``'s active macros, for the menus of the queue and ticket
    pages: read once per configuration stamp (the macro services mark it)."""
    rows = tenant_config_cached(
        tenant,
        "tickets.macros",
        lambda: list(
            Macro.objects.filter(tenant=tenant, active=True)
            .order_by("name", "id")
            .values_list("pk", "name", "owner_id")
        ),
    )
    return [
        (pk, name) for pk, name, owner_id in rows if owner_id is None or owner_id == actor.user_id
    ]


def macro_get(*, tenant: Tenant, actor: Actor, macro_id: int) -> Macro | None:
    """Inactive ones too (to change or delete them): the actor's own or shared."""
    return macro_list(tenant=tenant, actor=actor, include_inactive=True).filter(pk=macro_id).first()
