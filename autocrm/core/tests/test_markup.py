"""``markup`` prints what ``format_html`` prints, for every kind of value."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from autocrm.core.markup import esc, markup, markup_join

VALUES = [
    "plain",
    "<script>alert('x')</script> & \"quoted\"",
    mark_safe("<b>safe</b>"),
    42,
    None,
    3.5,
    gettext_lazy("Open"),
    "",
]


def test_markup_escapes_as_format_html() -> None:
    template = '<p title="{}">{} {}</p>'
    for value in VALUES:
        for other in VALUES:
            args = (value, other, value)
            got = markup(template, *args)
            assert isinstance(got, SafeString)
            assert got == format_html(template, *args)
    named = '<a href="{url}">{label}</a>'
    assert markup(named, url="/x?a=1&b=2", label=VALUES[1]) == format_html(
        named, url="/x?a=1&b=2", label=VALUES[1]
    )


def test_a_markup_value_is_not_escaped_twice() -> None:
    inner = markup("<i>{}</i>", "<&>")
    assert markup("<p>{}</p>", inner) == "<p><i>&lt;&amp;&gt;</i></p>"
    assert esc(inner) == str(inner)


def test_markup_join_is_format_html_join() -> None:
    rows = [(v, w) for v in VALUES for w in VALUES[:3]]
    template = '<option value="{}">{}</option>'
    assert markup_join("", template, rows) == format_html_join("", template, rows)
