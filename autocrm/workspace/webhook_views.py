"""Webhook settings pages: subscriptions, their delivery log (with each attempt) and
redelivery. Owners and admins only (the notifications selectors and services check it too).

A new or rotated signing secret is shown once, like an API key: handed to the next page
view through the session and removed as it is shown."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, admin_required
from autocrm.core.api import keyset_page
from autocrm.core.events import event_types_registered
from autocrm.core.forms import add_service_errors
from autocrm.core.problems import InvalidInput
from autocrm.notifications import selectors, services
from autocrm.notifications.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from autocrm.workspace.common import actor_for, is_htmx
from autocrm.workspace.settings_forms import WebhookForm, split_list
from autocrm.workspace.settings_pages import form_page, saved_from_post

NEW_SECRET_SESSION_KEY = "workspace.new_webhook_secret"
DELIVERIES_PER_PAGE = 25


def _subscription(request: TenantRequest, webhook_subscription_id: int) -> WebhookSubscription:
    try:
        return selectors.webhook_subscription_get(
            tenant=request.tenant,
            actor=actor_for(request),
            subscription_id=webhook_subscription_id,
        )
    except WebhookSubscription.DoesNotExist as exc:
        raise Http404("No such webhook.") from exc


def _values(sub: WebhookSubscription) -> dict[str, Any]:
    return {
        "url": sub.url,
        "event_types": ", ".join(sub.event_types),
        "description": sub.description,
        "active": sub.active,
    }


def _remember_secret(request: TenantRequest, sub: WebhookSubscription) -> None:
    request.session[NEW_SECRET_SESSION_KEY] = {
        "id": sub.pk,
        "secret": sub.secret,
        "tenant": request.tenant.pk,
    }


def _pop_secret(request: TenantRequest) -> dict[str, Any] | None:
    shown = request.session.get(NEW_SECRET_SESSION_KEY)
    if shown and shown.get("tenant") == request.tenant.pk:
        del request.session[NEW_SECRET_SESSION_KEY]
        return dict(shown)
    return None


def _event_type_choices() -> list[str]:
    return sorted(event_types_registered())


@admin_required
def settings_webhooks(request: TenantRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sub = services.webhook_subscription_create(
                tenant=request.tenant,
                actor=actor_for(request),
                url=data["url"],
                event_types=split_list(data["event_types"]),
                description=data["description"],
                active=data["active"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            _remember_secret(request, sub)
            return redirect(
                "workspace:settings_webhook",
                tenant_slug=request.tenant.slug,
                webhook_subscription_id=sub.pk,
            )
    subs = selectors.webhook_subscription_list(tenant=request.tenant, actor=actor_for(request))
    return form_page(
        request,
        "workspace/settings/webhooks.html",
        {"form": form, "webhooks": list(subs), "event_types": _event_type_choices()},
        form,
    )


def _deliveries(
    request: TenantRequest, sub: WebhookSubscription
) -> tuple[list[WebhookDelivery], str | None, str]:
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    rows = selectors.webhook_delivery_list(
        tenant=request.tenant, actor=actor_for(request), subscription=sub, status=status or None
    )
    try:
        page = keyset_page(
            rows,
            ordering=("-created_at", "-id"),
            cursor=request.GET.get("cursor") or None,
            limit=DELIVERIES_PER_PAGE,
        )
    except InvalidInput:
        # An edited or outdated link: the newest deliveries rather than an error page.
        page = keyset_page(rows, ordering=("-created_at", "-id"), cursor=None)
    return page.items, page.next_cursor, status


@admin_required
def settings_webhook(request: TenantRequest, webhook_subscription_id: int) -> HttpResponse:
    """One webhook: its settings form, the delivery log, rotate secret and delete."""
    sub = _subscription(request, webhook_subscription_id)
    form = WebhookForm.for_edit(request.POST or None, _values(sub), "webhook")
    if saved_from_post(
        request,
        form,
        lambda: services.webhook_subscription_update(
            tenant=request.tenant,
            actor=actor_for(request),
            subscription=sub,
            url=form.cleaned_data["url"],
            event_types=split_list(form.cleaned_data["event_types"]),
            description=form.cleaned_data["description"],
            active=form.cleaned_data["active"],
        ),
    ):
        messages.success(request, "The webhook was saved.")
        return redirect(
            "workspace:settings_webhook",
            tenant_slug=request.tenant.slug,
            webhook_subscription_id=sub.pk,
        )
    deliveries, next_cursor, status = _deliveries(request, sub)
    context = {
        "form": form,
        "webhook": sub,
        "new_secret": _pop_secret(request),
        "deliveries": deliveries,
        "next_cursor": next_cursor,
        "status": status,
        "statuses": DeliveryStatus.choices,
        "event_types": _event_type_choices(),
    }
    if is_htmx(request) and request.method == "GET":
        return render(request, "workspace/settings/_webhook_deliveries.html", context)
    return form_page(request, "workspace/settings/webhook.html", context, form)


@admin_required
@require_POST
def settings_webhook_rotate(request: TenantRequest, webhook_subscription_id: int) -> HttpResponse:
    sub = _subscription(request, webhook_subscription_id)
    sub = services.webhook_subscription_rotate_secret(
        tenant=request.tenant, actor=actor_for(request), subscription=sub
    )
    _remember_secret(request, sub)
    return redirect(
        "workspace:settings_webhook",
        tenant_slug=request.tenant.slug,
        webhook_subscription_id=sub.pk,
    )


@admin_required
@require_POST
def settings_webhook_delete(request: TenantRequest, webhook_subscription_id: int) -> HttpResponse:
    sub = _subscription(request, webhook_subscription_id)
    services.webhook_subscription_delete(
        tenant=request.tenant, actor=actor_for(request), subscription=sub
    )
    messages.success(request, f"The webhook to {sub.url} was deleted with its delivery log.")
    return redirect("workspace:settings_webhooks", tenant_slug=request.tenant.slug)


def _delivery(
    request: TenantRequest, webhook_subscription_id: int, webhook_delivery_id: int
) -> WebhookDelivery:
    try:
        return selectors.webhook_delivery_get(
            tenant=request.tenant,
            actor=actor_for(request),
            delivery_id=webhook_delivery_id,
            subscription_id=webhook_subscription_id,
        )
    except WebhookDelivery.DoesNotExist as exc:
        raise Http404("No such delivery.") from exc


@admin_required
def settings_webhook_delivery(
    request: TenantRequest, webhook_subscription_id: int, webhook_delivery_id: int
) -> HttpResponse:
    """The body sent and every attempt: request headers, response status, headers and body."""
    sub = _subscription(request, webhook_subscription_id)
    delivery = _delivery(request, webhook_subscription_id, webhook_delivery_id)
    attempts = selectors.webhook_delivery_attempts(
        tenant=request.tenant, actor=actor_for(request), delivery=delivery
    )
    return render(
        request,
        "workspace/settings/webhook_delivery.html",
        {"webhook": sub, "delivery": delivery, "attempts": list(attempts)},
    )


@admin_required
@require_POST
def settings_webhook_redeliver(
    request: TenantRequest, webhook_subscription_id: int, webhook_delivery_id: int
) -> HttpResponse:
    """Queue one more attempt. With htmx the delivery's row is swapped in place; refusals
    (already scheduled, webhook disabled) show on the row or as a page message."""
    sub = _subscription(request, webhook_subscription_id)
    delivery = _delivery(request, webhook_subscription_id, webhook_delivery_id)
    error = ""
    try:
        delivery = services.webhook_redeliver(
            tenant=request.tenant, actor=actor_for(request), delivery=delivery
        )
    except (ValidationError, PermissionDenied) as exc:
        error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    if is_htmx(request):
        return render(
            request,
            "workspace/settings/_webhook_delivery_row.html",
            {"webhook": sub, "d": delivery, "row_error": error, "redelivered": not error},
            status=400 if error else 200,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "The delivery was queued again.")
    return redirect(
        "workspace:settings_webhook",
        tenant_slug=request.tenant.slug,
        webhook_subscription_id=sub.pk,
    )
