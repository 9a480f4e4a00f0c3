"""What every settings list/create/edit/delete page repeats, once (ADR 0052).

The pages stay plain function views that read through their app's selectors and write through
its services; these helpers only carry what was copied around those calls:

- :func:`form_page`: the page with a 400 status while its form shows errors;
- :func:`saved_from_post`: a valid POST's service write, whose refusals (``ValidationError``,
  ``PermissionDenied``) become the form's errors, nothing saved;
- :func:`saved_redirect`: the same, then the page message and the way back to the list;
- :func:`delete_through_service`: a delete whose refusal is a page message instead, then the
  way back to the list.

The stale-edit check of edit forms is ``FingerprintForm.for_edit`` (settings_forms). The
routing pages use all of these too, with their own ``add_routing_errors`` (a rule's
``conditions.2.field`` error goes beside its row).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from autocrm.accounts.access import TenantRequest
from autocrm.core.forms import add_service_errors

ServiceErrors = Callable[[forms.Form, ValidationError], None]


def form_page(
    request: HttpRequest, template: str, context: dict[str, Any], form: forms.Form
) -> HttpResponse:
    """``template`` with ``context``; 400 while ``form`` has errors (a refused POST), so
    clients and tests see the refusal without reading the page."""
    return render(request, template, context, status=400 if form.errors else 200)


def saved_from_post(
    request: HttpRequest,
    form: forms.Form,
    write: Callable[[], Any],
    *,
    errors: ServiceErrors = add_service_errors,
) -> bool:
    """True when ``request`` is a POST, ``form`` (bound to it) is valid and ``write`` (one
    service call, reading ``form.cleaned_data``) saved. What the service refuses shows on the
    form: a ValidationError through ``errors`` (by default on the fields it names, unknown keys
    above the form), a PermissionDenied above the form."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        write()
    except ValidationError as exc:
        errors(form, exc)
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or "You may not do this.")
    else:
        return True
    return False


def saved_redirect(
    request: TenantRequest,
    form: forms.Form,
    write: Callable[[], Any],
    *,
    done: Callable[[], str],
    to: str,
    errors: ServiceErrors = add_service_errors,
) -> HttpResponse | None:
    """:func:`saved_from_post`, then the page message ``done()`` (called after the write, so
    it may read ``form.cleaned_data``) and the redirect to ``to``, the URL name of a page taking
    the tenant's slug. None when nothing was saved: the view shows its form again."""
    if not saved_from_post(request, form, write, errors=errors):
        return None
    messages.success(request, done())
    return redirect(to, request.tenant.slug)


def delete_through_service(
    request: TenantRequest, delete: Callable[[], Any], *, done: str, to: str
) -> HttpResponse:
    """Run ``delete`` (one service call), say how it went as a page message (``done``, or the
    service's refusal) and go back to ``to``, the list page's URL name."""
    try:
        delete()
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "You may not do this.")
    else:
        messages.success(request, done)
    return redirect(to, request.tenant.slug)
