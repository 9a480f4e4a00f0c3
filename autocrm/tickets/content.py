"""Message bodies: sanitized HTML for display, plain text for search and notifications."""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
_LOOKS_LIKE_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_BLOCK_END = re.compile(r"</(p|div|li|tr|h[1-6]|blockquote|pre)\s*>|<br\s*/?>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def sanitize_html(raw: str) -> str:
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
    )


def html_to_text(safe_html: str) -> str:
    with_breaks = _BLOCK_END.sub("\n", safe_html)
    text = html.unescape(nh3.clean(with_breaks, tags=set()))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def text_to_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def normalize_body(body: str, body_format: str = "auto") -> tuple[str, str]:
    """Return (sanitized html, plain text) for a body given as html, text or auto-detected."""
    if body_format not in {"auto", "html", "text"}:
        raise ValueError(f"unknown body format {body_format!r}")
    is_html = body_format == "html" or (body_format == "auto" and _LOOKS_LIKE_HTML.search(body))
    safe = sanitize_html(body) if is_html else text_to_html(body)
    return safe, html_to_text(safe)
