"""Form widgets of the agent pages drawn in Python instead of Django's widget templates.

Django draws a ``<select>`` by rendering a template per option: the ticket page's property
panel (status, priority, type, an assignee per agent, a team per team) took about a quarter
of the page's CPU that way. These widgets keep Django's behaviour (attributes, ``required``,
the selected value, escaping) and print the same markup with ``autocrm.core.markup``
(``format_html``'s escaping without its per-call overhead: a panel has an option per
agent)."""

from __future__ import annotations

import functools
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import SafeString

from autocrm.core.markup import esc, markup


@functools.lru_cache(maxsize=256)
def _options(rows: tuple[tuple[str, str], ...]) -> str:
    """The ``<option>`` list of these (value, label) rows, none selected. The same lists
    come back request after request (a tenant's agents and teams, the statuses), so each
    is escaped and joined once per process."""
    return "".join(f'<option value="{esc(value)}">{esc(label)}</option>' for value, label in rows)


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
        rows = tuple((str(option), str(label)) for option, label in choices)
        options = _options(rows)
        chosen = set(self.format_value(value))
        # As Django's Select: only the first option holding the value is selected (the
        # first occurrence of its opening tag in the list).
        first = next((option for option, _ in rows if option in chosen), None)
        if first is not None:
            tag = f'<option value="{esc(first)}"'
            options = options.replace(f"{tag}>", f"{tag} selected>", 1)
        final = self.build_attrs(self.attrs, attrs)
        return markup('<select name="{}"{}>{}</select>', name, flatatt(final), SafeString(options))


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
        return markup(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            markup(' value="{}"', str(shown)) if shown is not None else "",
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
