"""Raw MIME to what a ticket needs: headers decoded, the text and HTML bodies, the
attachments (inline images with their Content-ID), with every charset decoded.

Built on the standard library's parser with ``policy.default``: RFC 2047 encoded words are
decoded, ``get_body`` finds the body inside any nesting of mixed / related / alternative.
Real mail is often broken; the parser records defects instead of failing, and so does this
module: only a message with no sender address at all, or one whose headers try to smuggle
line breaks (header injection), is refused (:class:`InvalidEmail`).
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.utils
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message

from autocrm.inboxes.attachments import is_tnef, unpack_tnef
from autocrm.tickets.content import html_to_text, sanitize_html

# Headers whose decoded value must stay on one line: a CR or LF there is an attempt to add
# headers of its own when the value is reused (a reply's Subject, its recipients).
SINGLE_LINE_HEADERS = ("from", "reply-to", "to", "cc", "subject", "message-id", "in-reply-to")
_MSGID = re.compile(r"<[^<>\s]+>")
_LINE_BREAK = re.compile(r"[\r\n]")


# MIME structure headers: the standard library's Message methods that read them
# (get_content_type, get_param, get_boundary, get_filename, get_payload's transfer
# encoding) only ever use the header as text, so they get the raw value, unfolded.
_STRUCTURE_HEADERS = frozenset({"content-type", "content-disposition", "content-transfer-encoding"})
_UNFOLD = re.compile(r"[\r\n]")


class _Message(EmailMessage):
    """``EmailMessage`` that parses fewer headers. With ``policy.default`` every ``get``
    builds a header object anew (a full RFC 5322 parse of the value), and the standard
    library's own ``get_content_type`` / ``get_param`` / ``get_body`` read a part's
    Content-Type a dozen times per mail, only to turn the object back into text: the MIME
    structure headers are returned as text, as ``compat32`` does; any other header is
    parsed once per message (cached by its raw value, so a changed header is parsed
    again). That was a third of the CPU an import took (docs/email.md, "Speed")."""

    def get(self, name: str, failobj: object = None) -> object:
        name = name.lower()
        for key, value in self._headers:  # type: ignore[attr-defined]
            if key.lower() == name:
                if name in _STRUCTURE_HEADERS and isinstance(value, str):
                    return _UNFOLD.sub("", value)
                parsed: dict[tuple[str, object], object] = self.__dict__.setdefault(
                    "_autocrm_parsed", {}
                )
                found = parsed.get((key, value))
                if found is None:
                    found = parsed[(key, value)] = self.policy.header_fetch_parse(key, value)
                return found
        return failobj

    def is_attachment(self) -> bool:  # the library's reads an attribute of the parsed header
        return self.get_content_disposition() == "attachment"


_POLICY = policy.default.clone(message_factory=_Message)


class InvalidEmail(ValueError):
    """Not an email this channel can import; the message says why (for a 422)."""


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""  # without the angle brackets; inline images are referenced by it


@dataclass
class ParsedEmail:
    message_id: str  # "<id@host>", or "" when the mail has none
    in_reply_to: list[str]
    references: list[str]
    subject: str
    sender_email: str
    sender_name: str
    reply_to: str
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    delivered_to: list[str]  # every address the mail was sent to (plus-addressing)
    text: str  # the whole plain text (from text/plain, else from the HTML)
    html: str  # the whole HTML, sanitised ("" when the mail has only text)
    # The first tag of Content-Language (of the message, else of its text part), e.g.
    # "de-de": the language a new contact's e-mails are written in. "" when not declared.
    language: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    message: Message | None = None  # the parsed tree, for the automation checks


def _clean(value: str) -> str:
    """Text PostgreSQL can store: no NUL, no lone surrogates (undeclared 8-bit bytes in a
    header arrive as surrogate escapes; they are read as UTF-8 or replaced)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        try:
            value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "")


def _decode_words(raw: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(raw)))
    except (LookupError, UnicodeError, email.errors.HeaderParseError):
        return raw  # the undecoded text beats losing the header


def header(msg: Message, name: str) -> str:
    """A header decoded (RFC 2047); a header the policy cannot parse falls back to a
    lenient decode of its raw value instead of failing the message. Memoised on the
    message: ``policy.default`` parses a header anew on every access, and the pipeline
    reads the same few headers several times (parsing, robot checks, threading)."""
    cache: dict[str, str] | None = msg.__dict__.get("_autocrm_headers")
    if cache is None:
        cache = msg.__dict__["_autocrm_headers"] = {}
    key = name.lower()
    found = cache.get(key)
    if found is None:
        found = cache[key] = _header(msg, name)
    return found


def _header(msg: Message, name: str) -> str:
    raw = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
    if isinstance(raw, str) and raw.isascii() and "=?" not in raw:
        # Nothing to decode: the text the policy's parse would give, without that parse
        # (for an address list it would re-render the addresses; they are parsed later).
        return _clean(_UNFOLD.sub("", raw)).strip()
    try:
        value = msg.get(name)
    except Exception:  # a broken header must not lose the mail
        raw = next(
            (v for k, v in msg.raw_items() if k.lower() == name.lower()),
            None,
        )
        value = None if raw is None else _decode_words(str(raw))
    if value is None:
        return ""
    return _clean(str(value)).strip()


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    values = [header(msg, name)] if name in msg else []
    for display, addr in email.utils.getaddresses(values):
        addr = addr.strip().lower()
        if "@" in addr and " " not in addr:
            found.append((display.strip(), addr))
    return found


def _language(msg: Message) -> str:
    value = header(msg, "content-language")
    if not value:
        body = msg.get_body(("plain", "html")) if isinstance(msg, EmailMessage) else None
        value = header(body, "content-language") if body is not None else ""
    return value.split(",")[0].strip().lower()[:20]


def _message_ids(value: str) -> list[str]:
    return _MSGID.findall(value)


def _decoded_text(part: Message) -> str:
    """A text part in any charset; an unknown or lying charset decodes as UTF-8 with
    replacement, then Latin-1 (never an error: the text is what the customer wrote)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8"):
        try:
            return _clean(payload.decode(candidate))
        except (LookupError, UnicodeDecodeError):
            continue
    return _clean(payload.decode("latin-1"))


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:  # an undecodable name gets a generated one
        name = None
    if name:
        name = str(name)
        # Encoded words in a parameter break RFC 2231 but are common (Outlook, Gmail).
        return _clean(_decode_words(name) if "=?" in name else name)
    subtype = part.get_content_subtype() or "bin"
    if part.get_content_type() == "message/rfc822":
        return f"forwarded-{index}.eml"
    return f"attachment-{index}.{subtype[:10]}"


def _walk(part: Message, bodies: set[int], out: list[ParsedAttachment]) -> None:
    """Every leaf that is not one of the chosen bodies becomes an attachment; a forwarded
    message (message/rfc822) is kept whole as an .eml, not searched for bodies."""
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            data = inner[0].as_bytes(policy=policy.SMTP) if hasattr(inner[0], "as_bytes") else b""
            out.append(ParsedAttachment(_filename(part, len(out) + 1), "message/rfc822", data))
        return
    if part.is_multipart():
        children = part.get_payload()
        for child in children if isinstance(children, list) else []:
            if isinstance(child, Message):
                _walk(child, bodies, out)
        return
    if id(part) in bodies:
        return
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or not data:
        return
    content_id = (part.get("Content-ID") or "").strip().strip("<>")
    out.append(
        ParsedAttachment(
            filename=_filename(part, len(out) + 1),
            content_type=part.get_content_type(),
            data=data,
            content_id=_clean(content_id),
        )
    )


def _unwrap_tnef(
    attachments: list[ParsedAttachment],
) -> tuple[list[ParsedAttachment], str, str]:
    """winmail.dat becomes the files it holds (and hands over its body)."""
    out: list[ParsedAttachment] = []
    text = html = ""
    for item in attachments:
        unpacked = unpack_tnef(item.data) if is_tnef(item.filename, item.content_type) else None
        if unpacked is None or not (unpacked.files or unpacked.text or unpacked.html):
            out.append(item)
            continue
        out += [
            ParsedAttachment(filename=name, content_type="application/octet-stream", data=data)
            for name, data in unpacked.files
        ]
        text, html = text or unpacked.text, html or unpacked.html
    return out, text, html


def parse_email(raw: bytes) -> ParsedEmail:
    if not raw.strip():
        raise InvalidEmail("The message is empty.")
    msg = email.message_from_bytes(raw, policy=_POLICY)
    if not msg.keys():
        raise InvalidEmail("The body is not an email: it has no header lines.")
    for name in SINGLE_LINE_HEADERS:
        if _LINE_BREAK.search(header(msg, name)):
            raise InvalidEmail(f"The {name} header holds a line break (header injection).")
    senders = _addresses(msg, "from") or _addresses(msg, "sender")
    if not senders:
        raise InvalidEmail("The message has no sender address (From).")
    sender_name, sender_email = senders[0]

    bodies: set[int] = set()
    text = html = ""
    if isinstance(msg, EmailMessage):
        plain_part = msg.get_body(preferencelist=("plain",))
        html_part = msg.get_body(preferencelist=("html",))
    else:  # pragma: no cover -- policy.default always builds EmailMessage
        plain_part = html_part = None
    if (
        plain_part is None
        and html_part is None
        and not msg.is_multipart()
        and msg.get_content_maintype() in {"text", "multipart"}
    ):
        # A bare text/* part, or a multipart whose boundary is missing: its body is text.
        bodies.add(id(msg))
        text = _decoded_text(msg)
    if plain_part is not None and plain_part.get_content_maintype() == "text":
        bodies.add(id(plain_part))
        text = _decoded_text(plain_part)
    if html_part is not None and html_part.get_content_subtype() == "html":
        bodies.add(id(html_part))
        html = sanitize_html(_decoded_text(html_part))
    if not text and html:
        text = html_to_text(html)
    attachments: list[ParsedAttachment] = []
    _walk(msg, bodies, attachments)
    attachments, tnef_text, tnef_html = _unwrap_tnef(attachments)
    if not text and not html:  # Outlook put the body in the winmail.dat
        html = sanitize_html(tnef_html) if tnef_html else ""
        text = tnef_text or (html_to_text(html) if html else "")

    delivered = [a for _, a in _addresses(msg, "to") + _addresses(msg, "cc")]
    for name in ("delivered-to", "x-original-to", "envelope-to"):
        delivered += [a for _, a in _addresses(msg, name)]
    subject = " ".join(header(msg, "subject").split())
    return ParsedEmail(
        message_id=(_message_ids(header(msg, "message-id")) or [""])[0],
        in_reply_to=_message_ids(header(msg, "in-reply-to")),
        references=_message_ids(header(msg, "references")),
        subject=subject,
        sender_email=sender_email,
        sender_name=sender_name,
        reply_to=(_addresses(msg, "reply-to") or [("", "")])[0][1],
        to=_addresses(msg, "to"),
        cc=_addresses(msg, "cc"),
        delivered_to=list(dict.fromkeys(delivered)),
        text=text,
        html=html,
        attachments=attachments,
        message=msg,
        language=_language(msg),
    )
