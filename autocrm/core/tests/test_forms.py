"""A service's ValidationError lands on the form's fields, renamed where asked, the rest
above the form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from autocrm.core.forms import add_service_errors


class LogoForm(forms.Form):
    name = forms.CharField()
    logo = forms.CharField()


def _bound() -> LogoForm:
    form = LogoForm({"name": "Acme", "logo": "x"})
    assert form.is_valid()
    return form


def test_errors_go_to_the_field_of_their_key_or_above_the_form() -> None:
    form = _bound()
    add_service_errors(form, ValidationError({"name": "Taken.", "slug": "Bad slug."}))
    assert form.errors["name"] == ["Taken."]
    assert form.non_field_errors() == ["Bad slug."]


def test_field_of_renames_the_services_keys() -> None:
    form = _bound()
    add_service_errors(
        form, ValidationError({"logo_url": "Not an image."}), field_of={"logo_url": "logo"}
    )
    assert form.errors["logo"] == ["Not an image."]


def test_an_error_of_the_whole_goes_above_the_form() -> None:
    form = _bound()
    add_service_errors(form, ValidationError(["One.", "Two."]))
    assert form.non_field_errors() == ["One.", "Two."]
