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
    "span": {"data-user-id"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# A mention in a note: <span class="mention" data-user-id="ID">@Name</span> (no other class).
ALLOWED_CLASSES = {"span": {"mention"}}
# Exactly what the workspace's rich-text composer produces (assets/composer.js: Tiptap's
# StarterKit without headings or rules, inline images, mentions): an agent's reply or note
# is cleaned to this, stricter than what an inbound email may keep.
COMPOSER_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "em",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "ul",
}
COMPOSER_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt"},
    "span": {"data-user-id"},
}
_MENTION_SPAN = re.compile(r"<span\b[^>]*>")
_USER_ID = re.compile(r'\bdata-user-id="(\d{1,18})"')
_LOOKS_LIKE_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_BLOCK_END = re.compile(r"</(p|div|li|tr|h[1-6]|blockquote|pre)\s*>|<br\s*/?>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def sanitize_html(raw: str) -> str:
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
    )


def sanitize_composer_html(raw: str) -> str:
    """An agent's composer HTML, cleaned to what the editor produces (relative image URLs
    of the ticket's own attachments stay; nh3 drops any other scheme)."""
    return nh3.clean(
        raw,
        tags=COMPOSER_TAGS,
        attributes=COMPOSER_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def mentioned_user_ids(safe_html: str) -> set[int]:
    """User ids of the mention spans in sanitized HTML (only ``class="mention"`` spans)."""
    ids = set()
    for tag in _MENTION_SPAN.findall(safe_html):
        if 'class="mention"' in tag and (found := _USER_ID.search(tag)):
            ids.add(int(found.group(1)))
    return ids


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
    """Return (sanitized html, plain text) for a body given as html, text or auto-detected;
    ``composer``: the workspace editor's HTML (or plain text when typed without it)."""
    if body_format not in {"auto", "html", "text", "composer"}:
        raise ValueError(f"unknown body format {body_format!r}")
    looks_html = bool(_LOOKS_LIKE_HTML.search(body))
    if body_format == "composer":
        safe = sanitize_composer_html(body) if looks_html else text_to_html(body)
        return safe, html_to_text(safe)
    is_html = body_format == "html" or (body_format == "auto" and looks_html)
    safe = sanitize_html(body) if is_html else text_to_html(body)
    return safe, html_to_text(safe)
