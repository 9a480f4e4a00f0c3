"""Forms of the agent knowledge-base pages (the services validate again)."""

from __future__ import annotations

from typing import Any

from django import forms

from autocrm.knowledge.models import Category, Section, State, Visibility
from autocrm.knowledge.search import LOCALES
from autocrm.workspace.settings_forms import split_list


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(
        required=False,
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "true", "data-kb-source": ""}),
        help_text="Markdown: **bold**, *italic*, [links](https://…), lists, tables, "
        "```code blocks``` and callouts (<code>!!! tip</code> followed by an indented line).",
    )
    locale = forms.ChoiceField(choices=[(c, n) for c, (n, _) in LOCALES.items()], initial="en")
    state = forms.ChoiceField(choices=State.choices, initial=State.DRAFT)
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        initial=Visibility.PUBLIC,
        help_text="“Agents only” articles never appear in the help centre.",
    )
    section = forms.ChoiceField(required=False, label="Category / section")
    tags = forms.CharField(required=False, max_length=1000, help_text="Comma-separated.")
    related = forms.CharField(
        required=False,
        max_length=200,
        label="Related article ids",
        help_text="Comma-separated ids, shown under the article.",
    )
    note = forms.CharField(
        required=False, max_length=200, label="Change note", help_text="Kept in the history."
    )

    def __init__(
        self,
        *args: Any,
        categories: list[Category],
        sections: list[Section],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, str]] = [("", "— none —")]
        for c in categories:
            choices.append((f"c{c.pk}", c.name))
            choices += [
                (f"s{s.pk}", f"{c.name} / {s.name}") for s in sections if s.category_id == c.pk
            ]
        section = self.fields["section"]
        assert isinstance(section, forms.ChoiceField)
        section.choices = choices
        if editing:
            self.fields["locale"].disabled = True
        else:
            del self.fields["note"]

    def placement(self) -> tuple[int | None, int | None]:
        """(category id, section id) from the combined select."""
        value = self.cleaned_data.get("section") or ""
        if value.startswith("s"):
            return None, int(value[1:])
        if value.startswith("c"):
            return int(value[1:]), None
        return None, None

    def clean_related(self) -> list[int]:
        items = split_list(self.cleaned_data.get("related", ""))
        if not all(i.isdigit() and len(i) < 12 for i in items):
            raise forms.ValidationError("Article ids are numbers.")
        return [int(i) for i in items]

    def clean_tags(self) -> list[str]:
        return split_list(self.cleaned_data.get("tags", ""))


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=500, required=False)


class SectionForm(forms.Form):
    category = forms.TypedChoiceField(coerce=int)
    name = forms.CharField(max_length=100, label="Section name")

    def __init__(self, *args: Any, categories: list[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(c.pk, c.name) for c in categories]
