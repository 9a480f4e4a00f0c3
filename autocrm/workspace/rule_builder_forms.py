"""The guided builder inside the SLA policy and trigger/automation forms.

A :class:`RuleBuilderForm` edits its conditions and actions as rows (``rule_builder``) by
default, or as JSON text ("Advanced: edit as JSON", and always for stored JSON the rows
cannot show). Which one a POST carries is marked per list (``<name>-builder``), so a POST of
plain JSON text (the old form, a stale-edit refill) still works. Builder steps (add or remove
a row, a field changed, switch editor) re-render the form without saving: the buttons are
submit buttons, so the page works without JavaScript, and htmx swaps just the form."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from django import forms
from django.db.models import QuerySet

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.crm import selectors as crm_selectors
from autocrm.crm.models import Company
from autocrm.routing import selectors as routing_selectors
from autocrm.tickets import config_selectors
from autocrm.workspace import rule_builder as rb
from autocrm.workspace.rule_rows import action_row_view, condition_row_view
from autocrm.workspace.rule_summary import Names
from autocrm.workspace.settings_forms import FingerprintForm

ITEM_TITLES = {"conditions": "Condition", "actions": "Action"}
COMPANY_CHOICES_LIMIT = 300


@dataclass
class BuilderOptions:
    """The tenant's values the builder's pickers offer (and the list's summaries name)."""

    teams: list[tuple[int, str]] = field(default_factory=list)
    agents: list[tuple[int, str]] = field(default_factory=list)
    macros: list[tuple[int, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom_fields: list[tuple[str, str]] = field(default_factory=list)
    custom_field_options: dict[str, list[str]] = field(default_factory=dict)  # dropdowns
    companies: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def load(cls, *, tenant: Tenant, actor: Actor, agents: list[tuple[int, str]]) -> BuilderOptions:
        teams = routing_selectors.team_list(tenant=tenant, actor=actor).order_by("name", "id")
        macros = config_selectors.macro_list(tenant=tenant, actor=actor).filter(owner=None)
        tags = config_selectors.tag_list(tenant=tenant, actor=actor).order_by("name")
        fields = config_selectors.custom_field_list(tenant=tenant, actor=actor)
        # Tickets' companies: a datalist of the first ones by name; any id can be typed.
        companies = _companies(tenant, actor).order_by("name", "id")
        return cls(
            teams=list(teams.values_list("pk", "name")),
            agents=agents,
            macros=list(macros.values_list("pk", "name")),
            tags=list(tags.values_list("name", flat=True)),
            custom_fields=[(f.key, f.label) for f in fields],
            custom_field_options={
                f.key: [str(option) for option in f.options]
                for f in fields
                if isinstance(f.options, list) and f.options
            },
            companies=list(companies.values_list("pk", "name")[:COMPANY_CHOICES_LIMIT]),
        )

    def names(self, *, tenant: Tenant, actor: Actor, company_ids: Iterable[int] = ()) -> Names:
        known = dict(self.companies)
        missing = set(company_ids) - set(known)
        if missing:
            rows = _companies(tenant, actor).filter(pk__in=missing)
            known.update(rows.values_list("pk", "name"))
        return Names(
            teams=dict(self.teams),
            agents=dict(self.agents),
            macros=dict(self.macros),
            companies=known,
        )


def _companies(tenant: Tenant, actor: Actor) -> QuerySet[Company]:
    return crm_selectors.company_list(tenant=tenant, actor=actor).prefetch_related(None)


def _rows_of(what: str, items: Any) -> list[Any] | None:
    return rb.conditions_to_rows(items) if what == "conditions" else rb.actions_to_rows(items)


def _json_of(what: str, rows: list[Any]) -> list[Any]:
    return rb.rows_to_conditions(rows) if what == "conditions" else rb.rows_to_actions(rows)


def _parse(text: Any) -> tuple[Any, str]:
    """The JSON in ``text`` (a list when fine) and what is wrong with it."""
    try:
        data = json.loads(text or "[]") if isinstance(text, str) else text
    except ValueError as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(data, list):
        return None, "not a JSON list"
    return data, ""


class RuleBuilderForm(FingerprintForm):
    """Base of the forms whose conditions and actions the builder edits. Subclasses name
    their lists: ``builder_fields = {"conditions": "conditions", "escalation": "actions"}``
    (form field -> what its items are); the form fields themselves are the JSON texts."""

    builder_fields: ClassVar[dict[str, str]] = {}
    builder_labels: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, options: BuilderOptions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = options
        self.item_errors: dict[tuple[str, int], list[str]] = {}
        self.item_error_texts: set[str] = set()  # as the list's error, to show only by its row
        self.note = ""  # why the JSON editor shows although the builder was asked for
        self.focus_id = ""
        self.announce = ""
        self.rows: dict[str, list[Any] | None] = {}
        self.posted_rows: set[str] = set()
        for name, what in self.builder_fields.items():
            self.fields[name].required = False
            if self.is_bound and f"{name}-builder" in self.data:
                self.posted_rows.add(name)
                self.rows[name] = (
                    rb.condition_rows_from_data(self.data, name)
                    if what == "conditions"
                    else rb.action_rows_from_data(self.data, name)
                )
            else:
                items, _problem = _parse(self._json_text(name))
                self.rows[name] = _rows_of(what, items) if items is not None else None
        requested = self.data.get("editor") if self.is_bound else ""
        self.editor = "json" if requested == "json" else "rows"
        if self.editor == "rows" and any(rows is None for rows in self.rows.values()):
            self.editor = "json"
            self.note = (
                "These conditions or actions use a shape the builder cannot show, so they "
                "are edited as JSON here; nothing of them is changed."
            )

    def rebuild_kwargs(self) -> dict[str, Any]:
        """What the subclass's constructor takes besides data, initial and options."""
        return {}

    def _json_text(self, name: str) -> Any:
        if self.is_bound:
            return self.data.get(name, "[]")
        return self.initial.get(name, self.fields[name].initial)

    def builder_value(self, name: str, label: str) -> list[Any]:
        """The list ``name`` holds: from the rows when the page posted rows, else the JSON."""
        rows = self.rows.get(name)
        if name in self.posted_rows and rows is not None:
            return _json_of(self.builder_fields[name], rows)
        items, problem = _parse(self.cleaned_data.get(name) or "[]")
        if problem:
            raise forms.ValidationError(f"{label} must be a JSON list: {problem}.")
        return list(items)

    # --- builder steps: the form again, changed as asked, nothing saved -------------------

    def builder_step(self, step: str, trigger_id: str = "") -> Self:
        initial = {name: self[name].data for name in self.fields if name != "fingerprint"}
        initial["fingerprint"] = self.data.get("fingerprint", "")
        texts = {}
        for name, what in self.builder_fields.items():
            rows = self.rows.get(name)
            if self.editor == "rows" and rows is not None:
                texts[name] = json.dumps(_json_of(what, rows), ensure_ascii=False)
            else:
                texts[name] = str(self.data.get(name, "[]"))
        form = type(self)(
            initial={**initial, **texts}, options=self.options, **self.rebuild_kwargs()
        )
        action, _, rest = step.partition(":")
        if action == "json":
            form.editor, form.note = "json", ""
            form.focus_id = "rb-editor-switch"
            form.announce = "Editing as JSON."
            return form
        if action == "rows":
            form.focus_id = "rb-editor-switch"
            problems = [
                f"{self.builder_labels.get(name, name)}: {problem}"
                for name in self.builder_fields
                if (problem := _parse(texts[name])[1])
            ]
            if problems:
                form.editor, form.note = "json", "The builder cannot read " + "; ".join(problems)
            elif form.editor == "rows":
                form.announce = "Editing with the builder."
            return form
        if self.editor != "rows":
            return form
        form.editor, form.note = "rows", ""
        form.rows = {
            name: [
                rb.condition_row_fitted(r) if what == "conditions" else rb.action_row_fitted(r)
                for r in (self.rows.get(name) or [])
            ]
            for name, what in self.builder_fields.items()
        }
        form.focus_id = trigger_id
        name, _, index = rest.partition(":")
        rows = form.rows.get(name)
        if rows is None:
            return form
        title = ITEM_TITLES[self.builder_fields[name]]
        if action == "add":
            default = dict(rb.DEFAULT_CONDITION if title == "Condition" else rb.DEFAULT_ACTION)
            rows.append(_rows_of(self.builder_fields[name], [default])[0])  # type: ignore[index]
            last = len(rows) - 1
            form.focus_id = f"rb-{name}-{last}-{'field' if title == 'Condition' else 'type'}"
            form.announce = f"{title} {last + 1} added."
        elif action == "remove" and index.isdigit() and int(index) < len(rows):
            del rows[int(index)]
            at = min(int(index), len(rows) - 1)
            part = "field" if title == "Condition" else "type"
            form.focus_id = f"rb-{name}-{at}-{part}" if rows else f"rb-{name}-add"
            form.announce = f"{title} {int(index) + 1} removed."
        return form

    # --- what the template draws ------------------------------------------------------------

    def builder_blocks(self) -> dict[str, dict[str, Any]]:
        blocks = {}
        for name, what in self.builder_fields.items():
            title = ITEM_TITLES[what]
            row_errors = {
                index: messages for (key, index), messages in self.item_errors.items()
                if key == name
            }  # fmt: skip
            rows = self.rows.get(name) or []
            view = condition_row_view if what == "conditions" else action_row_view
            blocks[name] = {
                "name": name,
                "what": what,
                "title": title,
                "label": self.builder_labels.get(name, name.capitalize()),
                "rows": [
                    self._focused(view(name, i, row, self.options, row_errors.get(i, [])))
                    for i, row in enumerate(rows)
                ],
                "errors": [m for m in self[name].errors if m not in self.item_error_texts],
                "match": self["match"] if what == "conditions" and "match" in self.fields else None,
            }
        return blocks

    def _focused(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row redrawn alone carries where focus goes (into one of its controls)."""
        row["focus"] = self.focus_id if self.focus_id.startswith(f"{row['id']}-") else ""
        return row

    def layout(self) -> list[tuple[str, Any]]:
        """What the form shows, in order: ("field", bound field) or ("builder", block)."""
        blocks = self.builder_blocks() if self.editor == "rows" else {}
        items: list[tuple[str, Any]] = []
        for bound in self:
            if bound.name in blocks:
                items.append(("builder", blocks[bound.name]))
            elif not (bound.name == "match" and blocks):  # the conditions block holds it
                items.append(("field", bound))
        return items


def record_item_error(
    form: forms.Form, field: str, index: int, message: str, *, shown_as: str
) -> None:
    """Remember a service's refusal of one item for its row (``add_routing_errors``): the
    row shows ``message``, so the list's own errors leave out ``shown_as``."""
    if isinstance(form, RuleBuilderForm) and form.editor == "rows":
        form.item_errors.setdefault((field, index), []).append(message)
        form.item_error_texts.add(shown_as)
