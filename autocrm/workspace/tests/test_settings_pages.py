"""The settings-page helpers: a service's refusals become form errors (nothing saved), a
GET or an invalid form never reaches the service, an edit from an older version is stale."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory

from autocrm.workspace.settings_forms import STALE_MESSAGE, FingerprintForm
from autocrm.workspace.settings_pages import saved_from_post


class NameForm(FingerprintForm):
    name = forms.CharField(max_length=20)


def _post(data: dict[str, str]) -> Any:
    return RequestFactory().post("/settings/things", data)


def test_a_valid_post_runs_the_write_once() -> None:
    calls: list[str] = []
    request = _post({"name": "Billing"})
    form = NameForm(request.POST)
    assert saved_from_post(request, form, lambda: calls.append(form.cleaned_data["name"]))
    assert calls == ["Billing"]


def test_a_get_or_an_invalid_form_never_writes() -> None:
    calls: list[int] = []
    get = RequestFactory().get("/settings/things")
    assert not saved_from_post(get, NameForm(None), lambda: calls.append(1))
    request = _post({"name": "x" * 21})
    form = NameForm(request.POST)
    assert not saved_from_post(request, form, lambda: calls.append(1))
    assert calls == []
    assert "name" in form.errors


def test_service_refusals_become_form_errors() -> None:
    def refuse_field() -> None:
        raise ValidationError({"name": "Taken.", "other": "Not a field of this form."})

    request = _post({"name": "Billing"})
    form = NameForm(request.POST)
    assert not saved_from_post(request, form, refuse_field)
    assert form.errors["name"] == ["Taken."]
    assert form.non_field_errors() == ["Not a field of this form."]

    def refuse() -> None:
        raise PermissionDenied

    form = NameForm(request.POST)
    assert not saved_from_post(request, form, refuse)
    assert form.non_field_errors() == ["You may not do this."]


def test_for_edit_shows_the_row_and_refuses_an_edit_from_an_older_version() -> None:
    shown = NameForm.for_edit(None, {"name": "Billing"}, "thing")
    assert not shown.is_bound
    assert shown.initial["name"] == "Billing"
    fingerprint = shown.initial["fingerprint"]

    fresh = NameForm.for_edit(
        _post({"name": "Sales", "fingerprint": fingerprint}).POST, {"name": "Billing"}, "thing"
    )
    assert fresh.is_valid()

    # Someone renamed the row to "Support" after the form was shown.
    stale = NameForm.for_edit(
        _post({"name": "Sales", "fingerprint": fingerprint}).POST, {"name": "Support"}, "thing"
    )
    assert not stale.is_valid()
    assert stale.non_field_errors() == [STALE_MESSAGE.format(what="thing")]
    assert stale["name"].value() == "Support"
