"""Writes of the tenant's ticket configuration: tags, custom fields, saved views, macros."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from autocrm.core.actors import Actor
from autocrm.core.config_cache import tenant_config_changed
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.tickets import access, events
from autocrm.tickets.models import CustomField, FieldType, Macro, Tag, TicketView
from autocrm.tickets.query import QuerySyntaxError, parse_query
from autocrm.tickets.services.cleaning import clean_tags
from autocrm.tickets.services.macros import PLACEHOLDER, PLACEHOLDERS, macro_actions_to_changes

COLOR = r"^#[0-9a-fA-F]{6}$"


def _event(tenant: Tenant, actor: Actor, type_: str, subject: Any, payload: dict[str, Any]) -> None:
    event_append(
        tenant=tenant,
        type=type_,
        subject=subject,
        actor=actor,
        payload=payload,
    )


def _diff(obj: Any, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    diff = {}
    for field, value in values.items():
        old = getattr(obj, field)
        if old != value:
            diff[field] = {"from": old, "to": value}
            setattr(obj, field, value)
    return diff


# --- tags -----------------------------------------------------------------------------------


@transaction.atomic
def tag_create(*, tenant: Tenant, actor: Actor, name: str, color: str = "") -> Tag:
    access.require_edit(actor)
    [clean] = clean_tags([name])
    import re

    if color and not re.match(COLOR, color):
        raise ValidationError({"color": "Use a colour like #1f6feb."})
    if Tag.objects.filter(tenant=tenant, name=clean).exists():
        raise ValidationError({"name": f"The tag '{clean}' exists."})
    tag = Tag.objects.create(tenant=tenant, name=clean, color=color)
    _event(tenant, actor, events.TAG_CREATED, tag, {"name": clean, "color": color})
    return tag


@transaction.atomic
def tag_delete(*, tenant: Tenant, actor: Actor, tag: Tag) -> None:
    """Removes the tag definition (tickets keep the tag text they carry)."""
    access.require_admin(actor)
    _event(tenant, actor, events.TAG_DELETED, tag, {"name": tag.name})
    tag.delete()


# --- custom fields --------------------------------------------------------------------------


def _clean_field_definition(field_type: str, options: list[Any]) -> list[Any]:
    if field_type not in FieldType.values:
        raise ValidationError({"field_type": f"Use one of {', '.join(FieldType.values)}."})
    if field_type in {FieldType.DROPDOWN, FieldType.MULTI_SELECT}:
        if not options or not all(isinstance(o, str) and o.strip() for o in options):
            raise ValidationError({"options": "Give at least one non-empty option."})
        if len(set(options)) != len(options):
            raise ValidationError({"options": "Options must be unique."})
        return [o.strip() for o in options]
    if options:
        raise ValidationError({"options": "Only dropdown and multi-select fields have options."})
    return []


@transaction.atomic
def custom_field_create(
    *,
    tenant: Tenant,
    actor: Actor,
    label: str,
    field_type: str,
    key: str = "",
    options: list[Any] | None = None,
    required: bool = False,
    position: int = 0,
) -> CustomField:
    access.require_admin(actor)
    label = label.strip()
    if not label:
        raise ValidationError({"label": "A label is required."})
    key = slugify(key or label).replace("-", "_")[:50]
    if not key:
        raise ValidationError({"key": "A key of letters and digits is required."})
    clean_options = _clean_field_definition(field_type, options or [])
    try:
        with transaction.atomic():
            field = CustomField.objects.create(
                tenant=tenant,
                key=key,
                label=label[:100],
                field_type=field_type,
                options=clean_options,
                required=required,
                position=position,
            )
    except IntegrityError as exc:
        raise ValidationError({"key": f"The key '{key}' is taken."}) from exc
    tenant_config_changed(tenant=tenant)
    _event(
        tenant,
        actor,
        events.CUSTOM_FIELD_CREATED,
        field,
        {
            "key": key,
            "label": field.label,
            "field_type": field_type,
            "options": clean_options,
            "required": required,
        },
    )
    return field


@transaction.atomic
def custom_field_update(
    *, tenant: Tenant, actor: Actor, field: CustomField, changes: dict[str, Any]
) -> CustomField:
    """Label, options, required, active and position can change; key and type cannot (stored
    values depend on them)."""
    access.require_admin(actor)
    allowed = {"label", "options", "required", "active", "position"}
    if set(changes) - allowed:
        raise ValidationError({name: "This cannot be changed." for name in set(changes) - allowed})
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    if "options" in changes:
        changes["options"] = _clean_field_definition(field.field_type, changes["options"] or [])
    if "label" in changes and not str(changes["label"]).strip():
        raise ValidationError({"label": "A label is required."})
    diff = _diff(field, changes)
    if diff:
        field.save()
        tenant_config_changed(tenant=tenant)
        _event(
            tenant, actor, events.CUSTOM_FIELD_UPDATED, field, {"key": field.key, "changes": diff}
        )
    return field


@transaction.atomic
def custom_field_delete(*, tenant: Tenant, actor: Actor, field: CustomField) -> None:
    """Deletes the definition; tickets keep their stored values in ``custom_fields``."""
    access.require_admin(actor)
    _event(tenant, actor, events.CUSTOM_FIELD_DELETED, field, {"key": field.key})
    field.delete()
    tenant_config_changed(tenant=tenant)


# --- saved views ----------------------------------------------------------------------------


def _sharing(actor: Actor, shared: bool | None, kind: str) -> bool:
    """Whether a new view or macro (``kind``) is shared. Unless told, a person's own is
    private (anyone on staff may keep their own); an API key or job has no private space,
    so theirs are shared."""
    access.require_write(actor)
    if not actor.is_staff:
        raise PermissionDenied(f"Only staff have {kind}.")
    if shared is None:
        shared = actor.user is None
    if shared and not actor.is_admin:
        raise PermissionDenied(
            f"Only owners and admins can share {kind}; leave out shared or send false."
        )
    if not shared and actor.user is None:
        raise ValidationError({"shared": f"An API key can only create shared {kind}."})
    return shared


def _clean_view_query(query: str, sort: str) -> None:
    from autocrm.tickets.query import SORTS

    try:
        parse_query(query)
    except QuerySyntaxError as exc:
        raise ValidationError({"query": str(exc)}) from exc
    if sort not in SORTS:
        raise ValidationError({"sort": f"Use one of {', '.join(SORTS)}."})


@transaction.atomic
def ticket_view_create(
    *,
    tenant: Tenant,
    actor: Actor,
    name: str,
    query: str,
    sort: str = "-updated_at",
    shared: bool | None = None,
    position: int = 0,
) -> TicketView:
    shared = _sharing(actor, shared, "views")
    if not name.strip():
        raise ValidationError({"name": "A name is required."})
    _clean_view_query(query, sort)
    view = TicketView.objects.create(
        tenant=tenant,
        name=name.strip()[:100],
        query=query,
        sort=sort,
        owner=None if shared else actor.user,
        position=position,
    )
    tenant_config_changed(tenant=tenant)  # the queue's cached view list
    _event(
        tenant,
        actor,
        events.TICKET_VIEW_CREATED,
        view,
        {"name": view.name, "query": query, "sort": sort, "shared": shared},
    )
    return view


def _check_view_editable(actor: Actor, view: TicketView) -> None:
    access.require_write(actor)
    if view.owner_id is None:
        if not actor.is_admin:
            raise PermissionDenied("Only owners and admins can change shared views.")
    elif view.owner_id != actor.user_id:
        raise PermissionDenied("This is someone else's view.")


@transaction.atomic
def ticket_view_update(
    *, tenant: Tenant, actor: Actor, view: TicketView, changes: dict[str, Any]
) -> TicketView:
    _check_view_editable(actor, view)
    allowed = {"name", "query", "sort", "position"}
    if set(changes) - allowed:
        raise ValidationError({name: "This cannot be changed." for name in set(changes) - allowed})
    view = TicketView.objects.select_for_update().get(pk=view.pk)
    _clean_view_query(changes.get("query", view.query), changes.get("sort", view.sort))
    diff = _diff(view, changes)
    if diff:
        view.save()
        tenant_config_changed(tenant=tenant)
        _event(tenant, actor, events.TICKET_VIEW_UPDATED, view, {"changes": diff})
    return view


@transaction.atomic
def ticket_view_delete(*, tenant: Tenant, actor: Actor, view: TicketView) -> None:
    _check_view_editable(actor, view)
    _event(tenant, actor, events.TICKET_VIEW_DELETED, view, {"name": view.name})
    view.delete()
    tenant_config_changed(tenant=tenant)


# --- macros ---------------------------------------------------------------------------------


def _clean_macro(actions: list[dict[str, Any]], reply_body: str) -> None:
    if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
        raise ValidationError({"actions": "Give a list of {field, value} objects."})
    macro_actions_to_changes(actions)
    unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(reply_body)} - set(PLACEHOLDERS))
    if unknown:
        raise ValidationError(
            {
                "reply_body": f"Unknown placeholders: {', '.join(unknown)}; "
                f"use {', '.join(PLACEHOLDERS)}."
            }
        )
    if not actions and not reply_body.strip():
        raise ValidationError({"actions": "A macro needs actions or a reply."})


@transaction.atomic
def macro_create(
    *,
    tenant: Tenant,
    actor: Actor,
    name: str,
    actions: list[dict[str, Any]],
    reply_body: str = "",
    reply_public: bool = True,
    description: str = "",
    shared: bool | None = None,
) -> Macro:
    shared = _sharing(actor, shared, "macros")
    if not name.strip():
        raise ValidationError({"name": "A name is required."})
    _clean_macro(actions, reply_body)
    macro = Macro.objects.create(
        tenant=tenant,
        name=name.strip()[:100],
        actions=actions,
        reply_body=reply_body,
        reply_public=reply_public,
        description=description[:500],
        owner=None if shared else actor.user,
    )
    tenant_config_changed(tenant=tenant)  # the pages' cached macro menus
    _event(tenant, actor, events.MACRO_CREATED, macro, {"name": macro.name, "actions": actions})
    return macro


@transaction.atomic
def macro_update(*, tenant: Tenant, actor: Actor, macro: Macro, changes: dict[str, Any]) -> Macro:
    if macro.owner_id is None:
        access.require_admin(actor)
    elif macro.owner_id != actor.user_id:
        raise PermissionDenied("This is someone else's macro.")
    allowed = {"name", "description", "actions", "reply_body", "reply_public", "active"}
    if set(changes) - allowed:
        raise ValidationError({name: "This cannot be changed." for name in set(changes) - allowed})
    macro = Macro.objects.select_for_update().get(pk=macro.pk)
    _clean_macro(changes.get("actions", macro.actions), changes.get("reply_body", macro.reply_body))
    diff = _diff(macro, changes)
    if diff:
        macro.save()
        tenant_config_changed(tenant=tenant)
        _event(tenant, actor, events.MACRO_UPDATED, macro, {"changes": diff})
    return macro


@transaction.atomic
def macro_delete(*, tenant: Tenant, actor: Actor, macro: Macro) -> None:
    if macro.owner_id is None:
        access.require_admin(actor)
    elif macro.owner_id != actor.user_id:
        raise PermissionDenied("This is someone else's macro.")
    _event(tenant, actor, events.MACRO_DELETED, macro, {"name": macro.name})
    macro.delete()
    tenant_config_changed(tenant=tenant)
