"""Form widgets of the agent pages drawn in Python instead of Django's widget templates.

Django draws a ``<select>`` by rendering a template per option: the ticket page's property
panel (status, priority, type, an assignee per agent, a team per team) took about a quarter
of the page's CPU that way. These widgets keep Django's behaviour (attributes, ``required``,
the selected value, escaping) and print the same markup with ``format_html``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class QuickSelect(forms.Select):
    """A flat ``<select>`` (no option groups: those fall back to Django's templates)."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        choices = list(self.choices)
        if any(isinstance(label, list | tuple) for _, label in choices):
            return super().render(name, value, attrs, renderer)
        chosen = set(self.format_value(value))
        rows = []
        for option, label in choices:
            # As Django's Select: only the first option holding the value is selected.
            selected = str(option) in chosen
            if selected:
                chosen = set()
            rows.append((str(option), " selected" if selected else "", str(label)))
        options = format_html_join("", '<option value="{}"{}>{}</option>', rows)
        final = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final), options)


class QuickInputMixin:
    """An ``<input>`` as Django's ``input.html`` draws it (type, name, the value unless None,
    the attributes with ``flatatt``: ``True`` bare, ``False`` left out), without rendering
    two templates per field."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        shown = widget["value"]
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            format_html(' value="{}"', str(shown)) if shown is not None else "",
            flatatt(widget["attrs"]),
        )


# Named as Django's: a bound field's ``widget_type`` (which templates test, e.g. for
# "checkbox") comes from the class name.
class TextInput(QuickInputMixin, forms.TextInput):
    pass


class HiddenInput(QuickInputMixin, forms.HiddenInput):
    pass


class NumberInput(QuickInputMixin, forms.NumberInput):
    pass


class DateInput(QuickInputMixin, forms.DateInput):
    pass


class CheckboxInput(QuickInputMixin, forms.CheckboxInput):
    pass
