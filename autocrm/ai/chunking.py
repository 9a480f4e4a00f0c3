"""Split an article or a ticket conversation into passages for retrieval.

A passage is what a citation points at and what the extractive answer quotes, so it should
be one idea: articles are cut at their headings first, then packed paragraph by paragraph
up to ``TARGET_CHARS``. Neighbouring passages of the same section share their boundary
paragraph (``OVERLAP_CHARS`` of it at most), so an answer that straddles two paragraphs
is still found whole in one passage. MiniLM reads at most 256 tokens (about 1,000
characters of English), which bounds the target size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

TARGET_CHARS = 700
MAX_CHARS = 1000
OVERLAP_CHARS = 200

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Block markers at a line's start: quotes (dropped) and bullets (read as "• ").
_QUOTE = re.compile(r"^\s*(?:>\s*)+")
_BULLET = re.compile(r"^\s*[-*+]\s+")
_INLINE = MarkdownIt("commonmark")


@dataclass(frozen=True)
class Passage:
    heading: str  # the section's heading ("" before the first one)
    text: str


def _split_long(paragraph: str) -> list[str]:
    """A paragraph longer than MAX_CHARS, cut at sentence ends (or hard, for run-on text)."""
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > MAX_CHARS:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:MAX_CHARS])
            sentence = sentence[MAX_CHARS:]
        if current and len(current) + 1 + len(sentence) > MAX_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def _tail(paragraph: str) -> str:
    """The end of a paragraph carried into the next passage, from a sentence start."""
    if len(paragraph) <= OVERLAP_CHARS:
        return paragraph
    sentences = _SENTENCE_END.split(paragraph)
    tail = ""
    for sentence in reversed(sentences):
        if len(tail) + len(sentence) + 1 > OVERLAP_CHARS:
            break
        tail = f"{sentence} {tail}".strip()
    return tail or paragraph[-OVERLAP_CHARS:]


def _pack(heading: str, paragraphs: list[str]) -> list[Passage]:
    passages: list[Passage] = []
    current: list[str] = []
    size = 0
    for paragraph in paragraphs:
        if current and size + len(paragraph) > TARGET_CHARS:
            passages.append(Passage(heading, "\n\n".join(current)))
            overlap = _tail(current[-1])
            current, size = ([overlap], len(overlap)) if overlap else ([], 0)
        current.append(paragraph)
        size += len(paragraph)
    if current:
        passages.append(Passage(heading, "\n\n".join(current)))
    return passages


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        block = " ".join(line.strip() for line in block.strip().splitlines())
        if block:
            out.extend(_split_long(block) if len(block) > MAX_CHARS else [block])
    return out


def plain_text(markdown_line: str) -> str:
    """One line of markdown as the words a reader sees: passages are quoted to customers
    and agents as plain text, so "**Forgot your password?**" must read "Forgot your
    password?" and a link its text."""
    line = _QUOTE.sub("", markdown_line, count=1).strip()
    bullet = _BULLET.match(line)
    line = line[bullet.end() :] if bullet else line
    tokens = _INLINE.parseInline(line)
    words = ["• "] if bullet else []
    for token in tokens[0].children or [] if tokens else []:
        if token.type in ("text", "code_inline"):
            words.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            words.append(" ")
        elif token.type == "image":
            words.append(token.content)
    return "".join(words)


def chunk_markdown(markdown: str) -> list[Passage]:
    """Passages of a markdown body, cut at headings, then paragraphs, with overlap; in
    plain text."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in markdown.replace("\r\n", "\n").split("\n"):
        match = _HEADING.match(line)
        if match:
            sections.append((plain_text(match.group(2).strip()), []))
        else:
            sections[-1][1].append(plain_text(line) if line.strip() else "")
    passages: list[Passage] = []
    for heading, lines in sections:
        paragraphs = _paragraphs("\n".join(lines))
        if paragraphs:
            passages.extend(_pack(heading, paragraphs))
        elif heading:
            # A heading with nothing under it still says what the article covers.
            passages.append(Passage(heading, heading))
    return passages


def chunk_conversation(messages: list[tuple[str, str]]) -> list[Passage]:
    """Passages of a ticket's public conversation: ``(speaker, text)`` pairs, each message a
    paragraph prefixed by who said it, packed like an article section."""
    paragraphs: list[str] = []
    for speaker, text in messages:
        for i, paragraph in enumerate(_paragraphs(text)):
            paragraphs.append(f"{speaker}: {paragraph}" if i == 0 else paragraph)
    return _pack("", paragraphs)
