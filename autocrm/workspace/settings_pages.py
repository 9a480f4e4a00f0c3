"""What every settings list/create/edit/delete page repeats, once (ADR 0052).

The pages stay plain function views that read through their app's selectors and write through
its services; these helpers only carry what was copied around those calls:

- :func:`form_page`: the page with a 400 status while its form shows errors;
- :func:`saved_from_post`: a valid POST's service write, whose refusals (``ValidationError``,
  ``PermissionDenied``) become the form's errors, nothing saved;
- :func:`delete_through_service`: a delete whose refusal is a page message instead.

The stale-edit check of edit forms is ``FingerprintForm.for_edit`` (settings_forms).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from autocrm.core.forms import add_service_errors


def form_page(
    request: HttpRequest, template: str, context: dict[str, Any], form: forms.Form
) -> HttpResponse:
    """``template`` with ``context``; 400 while ``form`` has errors (a refused POST), so
    clients and tests see the refusal without reading the page."""
    return render(request, template, context, status=400 if form.errors else 200)


def saved_from_post(request: HttpRequest, form: forms.Form, write: Callable[[], Any]) -> bool:
    """True when ``request`` is a POST, ``form`` (bound to it) is valid and ``write`` (one
    service call, reading ``form.cleaned_data``) saved. What the service refuses shows on the
    form: a ValidationError on its fields (unknown keys above the form), a PermissionDenied
    above the form."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        write()
    except ValidationError as exc:
        add_service_errors(form, exc)
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or "You may not do this.")
    else:
        return True
    return False


def delete_through_service(request: HttpRequest, delete: Callable[[], Any], done: str) -> None:
    """Run ``delete`` (one service call) and say how it went as a page message: ``done``, or
    the service's refusal."""
    try:
        delete()
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "You may not do this.")
    else:
        messages.success(request, done)
