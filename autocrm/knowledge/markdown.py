"""Article markdown to safe HTML: markdown-it-py (CommonMark, tables, strikethrough,
``!!! note`` callouts) with raw HTML off, then nh3 with an allow-list.

Two layers on purpose: markdown-it escapes any HTML written in the source and refuses
``javascript:``/``vbscript:``/``file:`` links (its ``validateLink``); nh3 then keeps only
the tags, attributes, classes and URL schemes listed here, so a parser bug or plugin cannot
put a script or event handler into a page.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.admon import admon_plugin

CALLOUT_KINDS = frozenset({"note", "tip", "info", "warning", "danger", "important", "caution"})
TAGS = {
    "a",
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
    "h5",
    "h6",
    "hr",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"style"},
    "th": {"style"},
    "ol": {"start"},
    "code": {"class"},
    "div": {"class"},
    "p": {"class"},
}
# Relative URLs (uploaded images, other articles) carry no scheme and are kept.
URL_SCHEMES = {"http", "https", "mailto"}
_LANGUAGE_CLASS = re.compile(r"^language-[A-Za-z0-9_+#-]{1,30}$")
_ALIGN_STYLE = re.compile(r"^text-align:(left|center|right)$")
_CALLOUT_CLASSES = CALLOUT_KINDS | {"admonition", "admonition-title"}
_BLOCK_END = re.compile(r"</(p|div|li|tr|h[1-6]|blockquote|pre)\s*>|<br\s*/?>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")

_parser = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
    .use(admon_plugin)
)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        if tag == "code":
            return value if _LANGUAGE_CLASS.match(value) else None
        kept = [c for c in value.split() if c in _CALLOUT_CLASSES]
        return " ".join(kept) or None
    if attribute == "style":
        return value if _ALIGN_STYLE.match(value.replace(" ", "")) else None
    return value


def sanitize(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def render(markdown: str) -> str:
    """The article's HTML, safe to put in any page as is."""
    return sanitize(_parser.render(markdown))


def html_to_text(safe_html: str) -> str:
    """Plain text of rendered HTML (search, snippets, excerpts)."""
    with_breaks = _BLOCK_END.sub("\n", safe_html)
    text = html.unescape(nh3.clean(with_breaks, tags=set()))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# A second parser that keeps what the renderer drops, so an author learns what was refused
# instead of finding it silently missing from the page.
_checker = (
    MarkdownIt("commonmark", {"html": True})
    .enable("table")
    .enable("strikethrough")
    .use(admon_plugin)
)
_checker.validateLink = lambda url: True  # type: ignore[method-assign]
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
_TAG_NAME = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9-]*)")


def _unsafe_scheme(url: str) -> str | None:
    from urllib.parse import unquote

    cleaned = _CONTROL.sub("", unquote(html.unescape(url))).lower()
    match = _SCHEME.match(cleaned)
    if match and match.group(1) not in URL_SCHEMES:
        return match.group(1)
    return None


def problems(markdown: str) -> list[str]:
    """Why this markdown is refused: raw HTML, or a link or image whose URL scheme is not
    http(s)/mailto (``javascript:``, ``data:`` ...). Empty when it is fine."""
    found: list[str] = []
    for token in _checker.parse(markdown):
        tokens = [token, *(token.children or [])]
        for t in tokens:
            if t.type in {"html_block", "html_inline"}:
                tag = _TAG_NAME.search(t.content)
                name = f"<{tag.group(1).lower()}>" if tag else "HTML"
                found.append(
                    f"Raw HTML ({name}) is not allowed in articles: write markdown, or put "
                    "it in a code block to show it as text."
                )
            url = t.attrGet("href") if t.type == "link_open" else None
            if t.type == "image":
                url = t.attrGet("src")
            scheme = _unsafe_scheme(str(url)) if url else None
            if scheme:
                found.append(
                    f"Links and images must use http, https, mailto or a relative address; "
                    f"{scheme}: is not allowed."
                )
    return list(dict.fromkeys(found))
