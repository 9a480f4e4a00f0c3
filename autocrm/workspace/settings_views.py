"""Settings pages for the ticket configuration the API manages: saved views, macros, tags and
custom fields. Owners and admins only; every read through the tickets selectors, every write
through ``autocrm.tickets.config_services`` (which append the audit events)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, admin_required
from autocrm.tickets import config_selectors, config_services
from autocrm.tickets.models import CustomField, Macro, TicketView
from autocrm.workspace.common import actor_for, assignable_agents, found_or_404
from autocrm.workspace.settings_forms import (
    CustomFieldForm,
    MacroForm,
    TagForm,
    TicketViewForm,
    describe_actions,
)
from autocrm.workspace.settings_pages import delete_through_service, form_page, saved_redirect

# --- saved views ------------------------------------------------------------------------------


def _view_values(view: TicketView) -> dict[str, Any]:
    return {
        "name": view.name,
        "query": view.query,
        "sort": view.sort,
        "position": view.position,
        "shared": view.owner_id is None,
    }


def _ticket_view(request: TenantRequest, ticket_view_id: int) -> TicketView:
    return found_or_404(
        config_selectors.ticket_view_get(
            tenant=request.tenant, actor=actor_for(request), view_id=ticket_view_id
        ),
        "No such view.",
    )


@admin_required
def settings_views(request: TenantRequest) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    form = TicketViewForm(request.POST or None)
    saved = saved_redirect(
        request,
        form,
        lambda: config_services.ticket_view_create(
            tenant=tenant,
            actor=actor,
            name=form.cleaned_data["name"],
            query=form.cleaned_data["query"],
            sort=form.cleaned_data["sort"],
            shared=form.cleaned_data["shared"],
            position=form.cleaned_data["position"] or 0,
        ),
        done=lambda: f"The view “{form.cleaned_data['name']}” was saved.",
        to="workspace:settings_views",
    )
    if saved:
        return saved
    views = list(config_selectors.ticket_view_list(tenant=tenant, actor=actor))
    return form_page(request, "workspace/settings/views.html", {"form": form, "views": views}, form)


@admin_required
def settings_view_edit(request: TenantRequest, ticket_view_id: int) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    view = _ticket_view(request, ticket_view_id)
    form = TicketViewForm.for_edit(request.POST or None, _view_values(view), "view", editing=True)
    saved = saved_redirect(
        request,
        form,
        lambda: config_services.ticket_view_update(
            tenant=tenant,
            actor=actor,
            view=view,
            changes={
                "name": form.cleaned_data["name"].strip(),
                "query": form.cleaned_data["query"],
                "sort": form.cleaned_data["sort"],
                "position": form.cleaned_data["position"] or 0,
            },
        ),
        done=lambda: f"The view “{form.cleaned_data['name'].strip()}” was saved.",
        to="workspace:settings_views",
    )
    if saved:
        return saved
    return form_page(
        request, "workspace/settings/view_edit.html", {"form": form, "view": view}, form
    )


@admin_required
@require_POST
def settings_view_delete(request: TenantRequest, ticket_view_id: int) -> HttpResponse:
    view = _ticket_view(request, ticket_view_id)
    return delete_through_service(
        request,
        lambda: config_services.ticket_view_delete(
            tenant=request.tenant, actor=actor_for(request), view=view
        ),
        done=f"The view “{view.name}” was deleted.",
        to="workspace:settings_views",
    )


# --- macros -----------------------------------------------------------------------------------


def _macro_values(macro: Macro) -> dict[str, Any]:
    return {**MacroForm.initial_from(macro), "actions": macro.actions}


def _macro(request: TenantRequest, macro_id: int) -> Macro:
    return found_or_404(
        config_selectors.macro_get(
            tenant=request.tenant, actor=actor_for(request), macro_id=macro_id
        ),
        "No such macro.",
    )


def _macro_fields(form: MacroForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"].strip(),
        "description": data["description"],
        "reply_body": data["reply_body"],
        "reply_public": data["reply_public"],
    }


def _macro_create(request: TenantRequest, form: MacroForm) -> None:
    """A macro made inactive from the start is created, then switched off (the create
    service takes no ``active``)."""
    tenant, actor = request.tenant, actor_for(request)
    macro = config_services.macro_create(
        tenant=tenant,
        actor=actor,
        actions=form.actions([]),
        shared=form.cleaned_data["shared"],
        **_macro_fields(form),
    )
    if not form.cleaned_data["active"]:
        config_services.macro_update(
            tenant=tenant, actor=actor, macro=macro, changes={"active": False}
        )


@admin_required
def settings_macros(request: TenantRequest) -> HttpResponse:
    agents = assignable_agents(request)
    form = MacroForm(request.POST or None, agents=agents)
    saved = saved_redirect(
        request,
        form,
        lambda: _macro_create(request, form),
        done=lambda: f"The macro “{form.cleaned_data['name'].strip()}” was saved.",
        to="workspace:settings_macros",
    )
    if saved:
        return saved
    macros = config_selectors.macro_list(
        tenant=request.tenant, actor=actor_for(request), include_inactive=True
    )
    return form_page(
        request,
        "workspace/settings/macros.html",
        {
            "form": form,
            "macros": [(m, describe_actions(m.actions, dict(agents))) for m in macros],
        },
        form,
    )


@admin_required
def settings_macro_edit(request: TenantRequest, macro_id: int) -> HttpResponse:
    macro = _macro(request, macro_id)
    agents = assignable_agents(request)
    form = MacroForm.for_edit(
        request.POST or None, _macro_values(macro), "macro", agents=agents, editing=True
    )
    saved = saved_redirect(
        request,
        form,
        lambda: config_services.macro_update(
            tenant=request.tenant,
            actor=actor_for(request),
            macro=macro,
            changes={
                **_macro_fields(form),
                "actions": form.actions(MacroForm.kept_actions(macro)),
                "active": form.cleaned_data["active"],
            },
        ),
        done=lambda: f"The macro “{form.cleaned_data['name']}” was saved.",
        to="workspace:settings_macros",
    )
    if saved:
        return saved
    return form_page(
        request,
        "workspace/settings/macro_edit.html",
        {"form": form, "macro": macro, "kept_actions": MacroForm.kept_actions(macro)},
        form,
    )


@admin_required
@require_POST
def settings_macro_delete(request: TenantRequest, macro_id: int) -> HttpResponse:
    macro = _macro(request, macro_id)
    return delete_through_service(
        request,
        lambda: config_services.macro_delete(
            tenant=request.tenant, actor=actor_for(request), macro=macro
        ),
        done=f"The macro “{macro.name}” was deleted.",
        to="workspace:settings_macros",
    )


# --- tags -------------------------------------------------------------------------------------


@admin_required
def settings_tags(request: TenantRequest) -> HttpResponse:
    form = TagForm(request.POST or None)
    saved = saved_redirect(
        request,
        form,
        lambda: config_services.tag_create(
            tenant=request.tenant,
            actor=actor_for(request),
            name=form.cleaned_data["name"],
            color=form.cleaned_data["color"],
        ),
        done=lambda: f"The tag “{form.cleaned_data['name']}” was added.",
        to="workspace:settings_tags",
    )
    if saved:
        return saved
    tags = config_selectors.tag_list(tenant=request.tenant, actor=actor_for(request))
    return form_page(request, "workspace/settings/tags.html", {"form": form, "tags": tags}, form)


@admin_required
@require_POST
def settings_tag_delete(request: TenantRequest, tag_id: int) -> HttpResponse:
    tag = found_or_404(
        config_selectors.tag_get(tenant=request.tenant, actor=actor_for(request), tag_id=tag_id),
        "No such tag.",
    )
    return delete_through_service(
        request,
        lambda: config_services.tag_delete(
            tenant=request.tenant, actor=actor_for(request), tag=tag
        ),
        done=f"The tag “{tag.name}” was removed; tickets keep it as text.",
        to="workspace:settings_tags",
    )


# --- custom fields ----------------------------------------------------------------------------


def _field_values(field: CustomField) -> dict[str, Any]:
    return {
        "label": field.label,
        "key": field.key,
        "field_type": field.field_type,
        "options": "\n".join(field.options),
        "required": field.required,
        "active": field.active,
        "position": field.position,
    }


def _custom_field(request: TenantRequest, custom_field_id: int) -> CustomField:
    return found_or_404(
        config_selectors.custom_field_get(
            tenant=request.tenant, actor=actor_for(request), field_id=custom_field_id
        ),
        "No such custom field.",
    )


@admin_required
def settings_custom_fields(request: TenantRequest) -> HttpResponse:
    form = CustomFieldForm(request.POST or None)
    saved = saved_redirect(
        request,
        form,
        lambda: config_services.custom_field_create(
            tenant=request.tenant,
            actor=actor_for(request),
            label=form.cleaned_data["label"],
            key=form.cleaned_data["key"],
            field_type=form.cleaned_data["field_type"],
            options=form.options_list(),
            required=form.cleaned_data["required"],
            position=form.cleaned_data["position"] or 0,
        ),
        done=lambda: f"The field “{form.cleaned_data['label']}” was added.",
        to="workspace:settings_custom_fields",
    )
    if saved:
        return saved
    fields = config_selectors.custom_field_list(tenant=request.tenant, actor=actor_for(request))
    return form_page(
        request, "workspace/settings/custom_fields.html", {"form": form, "fields": fields}, form
    )


def _field_changes(field: CustomField, form: CustomFieldForm) -> dict[str, Any]:
    data = form.cleaned_data
    changes: dict[str, Any] = {
        "label": data["label"],
        "required": data["required"],
        "active": data["active"],
        "position": data["position"] or 0,
    }
    if field.options or form.options_list():
        changes["options"] = form.options_list()
    return changes


@admin_required
def settings_custom_field_edit(request: TenantRequest, custom_field_id: int) -> HttpResponse:
    field = _custom_field(request, custom_field_id)
    form = CustomFieldForm.for_edit(
        request.POST or None, _field_values(field), "field", editing=True
    )
    saved = saved_redirect(
        request,
        form,
        lambda: config_services.custom_field_update(
            tenant=request.tenant,
            actor=actor_for(request),
            field=field,
            changes=_field_changes(field, form),
        ),
        done=lambda: f"The field “{form.cleaned_data['label']}” was saved.",
        to="workspace:settings_custom_fields",
    )
    if saved:
        return saved
    return form_page(
        request, "workspace/settings/custom_field_edit.html", {"form": form, "field": field}, form
    )


@admin_required
@require_POST
def settings_custom_field_delete(request: TenantRequest, custom_field_id: int) -> HttpResponse:
    field = _custom_field(request, custom_field_id)
    return delete_through_service(
        request,
        lambda: config_services.custom_field_delete(
            tenant=request.tenant, actor=actor_for(request), field=field
        ),
        done=f"The field “{field.label}” was deleted; tickets keep their stored values.",
        to="workspace:settings_custom_fields",
    )
