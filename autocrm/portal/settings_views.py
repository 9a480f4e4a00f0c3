"""The help-centre settings page of the agent workspace (owners and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse

from autocrm.accounts.access import TenantRequest, admin_required, signed_in_user
from autocrm.core.actors import Actor
from autocrm.core.forms import add_service_errors
from autocrm.portal import services
from autocrm.portal.forms import HelpCentreSettingsForm, LogoForm

# The service's setting keys -> this form's fields.
FIELD_OF_SETTING = {
    "help_brand_name": "brand_name",
    "help_primary_color": "primary_color",
    "help_header_color": "header_color",
    "help_footer_text": "footer_text",
    "help_custom_domain": "custom_domain",
    "help_signup_policy": "signup_policy",
    "help_signup_domains": "signup_domains",
    "logo": "logo",
}


def _actor(request: TenantRequest) -> Actor:
    return Actor.for_user(
        signed_in_user(request), role=request.membership.role, tenant_id=request.tenant.pk
    )


def _initial(request: TenantRequest) -> dict[str, object]:
    tenant = request.tenant
    return {
        "brand_name": tenant.setting("help_brand_name"),
        "primary_color": tenant.setting("help_primary_color"),
        "header_color": tenant.setting("help_header_color"),
        "footer_text": tenant.setting("help_footer_text"),
        "custom_domain": tenant.setting("help_custom_domain"),
        "signup_policy": tenant.setting("help_signup_policy"),
        "signup_domains": ", ".join(tenant.setting("help_signup_domains")),
        "customers_see_organization_tickets": tenant.setting("customers_see_organization_tickets"),
        "csat_enabled": tenant.setting("csat_enabled"),
    }


def widget_snippet(request: TenantRequest) -> str:
    """The <script> tag that embeds the help widget, with this site's absolute addresses."""
    script = request.build_absolute_uri(static("vendor/help-widget/help-widget.js"))
    help_url = request.build_absolute_uri(reverse("portal:home", args=[request.tenant.slug]))
    return f'<script src="{script}" data-help-url="{help_url}" async></script>'


@admin_required
def help_centre_settings(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    posted = request.method == "POST"
    action = request.POST.get("action", "settings") if posted else ""
    form = HelpCentreSettingsForm(
        request.POST if action == "settings" else None, initial=_initial(request)
    )
    logo_form = LogoForm(
        request.POST if action == "logo" else None, request.FILES if action == "logo" else None
    )
    if posted:
        try:
            if action == "settings" and form.is_valid():
                data = form.cleaned_data
                services.help_settings_update(
                    tenant=tenant,
                    actor=_actor(request),
                    brand_name=data["brand_name"],
                    primary_color=data["primary_color"],
                    header_color=data["header_color"],
                    footer_text=data["footer_text"],
                    custom_domain=data["custom_domain"],
                    signup_policy=data["signup_policy"],
                    signup_domains=services.signup_domains_parse(data["signup_domains"]),
                    customers_see_organization_tickets=data["customers_see_organization_tickets"],
                    csat_enabled=data["csat_enabled"],
                )
                messages.success(request, "Help centre settings saved.")
                return redirect("help_settings:general", tenant_slug=tenant.slug)
            if action == "logo" and logo_form.is_valid():
                upload = logo_form.cleaned_data["logo"]
                services.help_logo_set(
                    tenant=tenant, actor=_actor(request), upload=upload, size=upload.size
                )
                messages.success(request, "Logo saved.")
                return redirect("help_settings:general", tenant_slug=tenant.slug)
            if action == "logo_remove":
                services.help_logo_set(tenant=tenant, actor=_actor(request), upload=None, size=0)
                messages.success(request, "Logo removed.")
                return redirect("help_settings:general", tenant_slug=tenant.slug)
        except ValidationError as exc:
            add_service_errors(
                logo_form if action == "logo" else form, exc, field_of=FIELD_OF_SETTING
            )
    has_errors = bool(form.errors or logo_form.errors)
    return render(
        request,
        "help/settings/general.html",
        {"form": form, "logo_form": logo_form, "widget_snippet": widget_snippet(request)},
        status=400 if has_errors else 200,
    )
