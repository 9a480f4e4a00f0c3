"""The colour pairs the stylesheet uses meet WCAG 2.1 AA contrast (4.5:1 for text)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[3] / "static" / "css" / "app.css"

# (foreground, background) variable pairs that the stylesheet puts text on.
TEXT_PAIRS = [
    ("text", "bg"),
    ("text", "surface"),
    ("text-muted", "surface"),
    ("text-muted", "bg"),
    ("text-muted", "surface-muted"),
    ("text", "surface-muted"),
    ("text-subtle", "surface"),
    ("primary", "surface"),
    ("primary", "bg"),
    ("primary-hover", "surface"),
    ("primary-text", "primary-soft"),
    ("danger", "surface"),
    ("danger", "danger-soft"),
    ("success", "success-soft"),
    ("warning", "warning-soft"),
    ("sidebar-text", "sidebar-bg"),
    ("sidebar-heading", "sidebar-bg"),
    ("sidebar-text", "sidebar-active"),
]
WHITE_ON = ["primary", "primary-hover", "sidebar-bg", "sidebar-active"]


def css_variables() -> dict[str, str]:
    root = re.search(r":root\s*{(.*?)}", CSS.read_text(), re.S)
    assert root is not None
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", root.group(1)))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_maths_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_text_colours_have_aa_contrast(fg: str, bg: str) -> None:
    colours = css_variables()
    assert contrast(colours[fg], colours[bg]) >= 4.5, (fg, bg)


@pytest.mark.parametrize("bg", WHITE_ON)
def test_white_text_on_dark_surfaces_has_aa_contrast(bg: str) -> None:
    assert contrast("#ffffff", css_variables()[bg]) >= 4.5, bg


def test_focus_is_always_visible() -> None:
    css = CSS.read_text()
    assert re.search(r":focus-visible\s*{[^}]*outline:\s*3px solid", css)
    assert "outline: none" not in css and "outline: 0" not in css


def dark_variables() -> dict[str, str]:
    block = re.search(r':root\[data-theme="dark"\]\s*{(.*?)}', CSS.read_text(), re.S)
    assert block is not None
    return {
        **css_variables(),
        **dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", block.group(1))),
    }


@pytest.mark.parametrize(("fg", "bg"), [*TEXT_PAIRS, ("on-primary", "primary")])
def test_dark_mode_text_colours_have_aa_contrast(fg: str, bg: str) -> None:
    colours = dark_variables()
    assert contrast(colours[fg], colours[bg]) >= 4.5, (fg, bg)


def test_primary_buttons_use_the_on_primary_colour_in_both_modes() -> None:
    css = CSS.read_text()
    assert re.search(r"\.btn-primary\s*{[^}]*color: var\(--on-primary\)", css)
    assert contrast(css_variables()["on-primary"], css_variables()["primary"]) >= 4.5


# The backgrounds a queue row can have: plain, hovered, the current row (j/k).
ROW_BACKGROUNDS = ["surface", "surface-muted", "primary-soft"]


def _rule_colours(selector: str) -> tuple[str, str | None]:
    """The text colour variable of ``selector``'s rule, and its own background (if any)."""
    rule = re.search(rf"(?m)^{re.escape(selector)}\s*{{([^}}]*)}}", CSS.read_text())
    assert rule is not None, selector
    colour = re.search(r"(?<![-\w])color:\s*var\(--([\w-]+)\)", rule.group(1))
    background = re.search(r"background:\s*var\(--([\w-]+)\)", rule.group(1))
    assert colour is not None, selector
    return colour.group(1), background.group(1) if background else None


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("selector", [".sla", ".sla-soon", ".sla-breached"])
def test_sla_due_styles_have_aa_contrast_in_both_modes(selector: str, theme: str) -> None:
    """The queue's SLA due cell (due, due soon, breached) on every row background, in light
    and dark mode; a style with a background of its own is read on that."""
    colours = css_variables() if theme == "light" else dark_variables()
    fg, own = _rule_colours(selector)
    for bg in [own] if own else ROW_BACKGROUNDS:
        assert contrast(colours[fg], colours[bg]) >= 4.5, (selector, theme, fg, bg)


@pytest.mark.parametrize("name", sorted(p.name for p in CSS.parent.glob("*.css")))
def test_every_block_is_closed(name: str) -> None:
    """A brace lost in a merge nests every later rule in the block before it (the routing
    rules once applied only under 1100 px, inside the settings nav's media query)."""
    text = re.sub(r"/\*.*?\*/", "", (CSS.parent / name).read_text(), flags=re.S)
    depth = 0
    for line_number, line in enumerate(text.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{name}:{line_number}: a block closed twice"
    assert depth == 0, f"{name}: {depth} block(s) never closed"
