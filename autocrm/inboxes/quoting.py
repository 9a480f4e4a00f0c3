"""Separate what the sender wrote now from the quoted history and the signature.

The ticket message shows the new text; the whole original stays on the InboundEmail row
(and its raw .eml). The markers are the ones mail clients write: "On … wrote:" (Gmail,
Apple Mail, Thunderbird, in several languages), Outlook's "-----Original Message-----" or
its underscore rule followed by a From:/Sent: block, a run of "> " lines, the "-- "
signature delimiter and mobile footers. When nothing would remain, the whole text is kept:
a message is never emptied by this guess.
"""

from __future__ import annotations

import re

_QUOTE_HEADERS = [
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE),  # Gmail, Apple, Thunderbird
    re.compile(r"^\s*Le\b.{0,300}\ba écrit\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Am\b.{0,300}\bschrieb\b.{0,200}:\s*$", re.IGNORECASE),
    re.compile(r"^\s*El\b.{0,300}\bescribió:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Reply message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{20,}\s*$"),  # Outlook's rule above the quoted headers
]
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|De|Von):\*?\s", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date|Envoyé|Gesendet|To):\*?\s", re.IGNORECASE)
_SIGNATURES = [
    re.compile(r"^-- ?$"),
    re.compile(r"^\s*Sent from my (iPhone|iPad|Android|mobile|BlackBerry).*$", re.IGNORECASE),
    re.compile(r"^\s*Get Outlook for (iOS|Android).*$", re.IGNORECASE),
]


def _cut_at(lines: list[str]) -> int:
    """The index of the first line of quoted history or signature (len(lines): none)."""
    for i, line in enumerate(lines):
        if any(p.match(line) for p in _QUOTE_HEADERS):
            return i
        # "On Tue, 3 Mar 2026 at 10:02, Pat Doe <pat@example.com>" + "wrote:" on the next line
        if (
            i + 1 < len(lines)
            and re.match(r"^\s*On\b", line, re.IGNORECASE)
            and re.match(r"^.{0,200}\bwrote:\s*$", lines[i + 1], re.IGNORECASE)
        ):
            return i
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[i + 1 : i + 4]):
            return i
        if any(p.match(line) for p in _SIGNATURES):
            return i
        if line.startswith(">") and all(
            not rest.strip() or rest.startswith(">") for rest in lines[i:]
        ):
            return i  # the rest is a plain "> " quote
    return len(lines)


def new_text(text: str) -> str:
    """The part of ``text`` written in this message (the whole text when that is empty)."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept = "\n".join(lines[: _cut_at(lines)]).strip()
    return kept or text.strip()
