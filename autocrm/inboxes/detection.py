"""Mail no ticket should answer: auto-replies, bulk mail, bounces, our own mail coming back.

Answering a robot with a robot is how two helpdesks ping-pong forever; every check here is
a header or sender convention that automated senders follow (RFC 3834 Auto-Submitted,
Precedence, the X-Autoreply family, Microsoft's X-Auto-Response-Suppress, DSN reports
from mailer-daemon / postmaster), plus the spam filter's verdict. A robot that follows no
convention is caught by the per-sender rate limit (autocrm.inboxes.inbound)."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import Message

from autocrm.inboxes.parsing import ParsedEmail, header

_BULK_PRECEDENCE = {"bulk", "junk", "auto_reply"}
_SUPPRESS_MARKS = {"all", "oof", "autoreply"}
_ROBOT_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)@", re.IGNORECASE)
_MSGID = re.compile(r"<[^<>\s]+>")
# Addresses that say no person reads them: an automatic answer there is at best lost, at
# worst answered by another robot.
_NO_REPLY_SENDERS = re.compile(
    r"^(no-?reply|do-?not-?reply|donotreply|noreply|mailer-daemon|mail-daemon|postmaster|"
    r"bounces?)([+._-][^@]*)?@",
    re.IGNORECASE,
)

LOOP = "loop"
AUTO_REPLY = "auto_reply"
BULK = "bulk"
BOUNCE = "bounce"
SPAM = "spam"
RATE_LIMITED = "rate_limited"
# Why a mail that may become a ticket must still get no automatic answer (RFC 3834 3.1).
MAILING_LIST = "mailing_list"
NULL_RETURN_PATH = "null_return_path"
NO_REPLY_ADDRESS = "no_reply_address"


def is_no_reply_address(address: str) -> bool:
    return bool(_NO_REPLY_SENDERS.match(address))


def no_auto_reply_reason(parsed: ParsedEmail) -> str:
    """Why no automatic answer (the "ticket received" mail) may go to this mail's sender,
    or "" when one may: mail from a mailing list (a List-Id or list header, Precedence:
    list), with a null return path (a robot's bounce-like mail), or from a no-reply
    address. The robots :func:`ignore_reason` refuses never get this far."""
    msg = parsed.message
    assert msg is not None
    if header(msg, "precedence").lower() == "list" or any(
        name in msg for name in ("list-id", "list-unsubscribe", "list-post")
    ):
        return MAILING_LIST
    if header(msg, "return-path").replace(" ", "") == "<>":
        return NULL_RETURN_PATH
    if is_no_reply_address(parsed.sender_email):
        return NO_REPLY_ADDRESS
    return ""


def is_bounce(msg: Message) -> bool:
    return msg.get_content_type() == "multipart/report" and (
        (msg.get_param("report-type") or "").lower() == "delivery-status"  # type: ignore[union-attr]
    )


def ignore_reason(
    parsed: ParsedEmail, *, own_addresses: set[str], is_ours: Callable[[str], bool]
) -> str | None:
    """Why this mail must not create or touch a ticket, or None when it may."""
    msg = parsed.message
    assert msg is not None
    if parsed.sender_email in own_addresses:
        return LOOP
    if parsed.message_id and is_ours(parsed.message_id):
        return LOOP
    if is_bounce(msg) or _ROBOT_SENDERS.match(parsed.sender_email):
        return BOUNCE
    auto_submitted = header(msg, "auto-submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return AUTO_REPLY
    if header(msg, "x-autoreply") or header(msg, "x-autorespond"):
        return AUTO_REPLY
    suppress = {p.strip().lower() for p in header(msg, "x-auto-response-suppress").split(",")}
    if suppress & _SUPPRESS_MARKS:
        return AUTO_REPLY
    if header(msg, "precedence").lower() in _BULK_PRECEDENCE:
        return BULK
    # The verdict of the MTA's spam filter (SpamAssassin, rspamd and most gateways).
    if header(msg, "x-spam-flag").lower().startswith("yes") or header(
        msg, "x-spam-status"
    ).lower().startswith("yes"):
        return SPAM
    return None


def bounced_message_ids(msg: Message) -> list[str]:
    """The Message-IDs of the mail a DSN reports on (from its message/rfc822 or
    text/rfc822-headers part)."""
    found: list[str] = []
    for part in msg.walk():
        if part.get_content_type() == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            for line in text.splitlines():
                if line.lower().startswith("message-id:"):
                    found += _MSGID.findall(line)
        elif part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found += _MSGID.findall(str(inner[0].get("message-id") or ""))
    return found


def bounced_recipients(msg: Message) -> list[str]:
    """The addresses a DSN says failed for good (Action: failed, or a 5.x.x Status)."""
    found: list[str] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in re.split(r"\n\s*\n", part.as_string()):
            recipient = re.search(
                r"^(?:Final|Original)-Recipient:\s*rfc822;\s*<?([^\s<>]+@[^\s<>]+)>?",
                block,
                re.MULTILINE | re.IGNORECASE,
            )
            failed = re.search(r"^Action:\s*failed", block, re.MULTILINE | re.IGNORECASE)
            permanent = re.search(r"^Status:\s*5\.", block, re.MULTILINE | re.IGNORECASE)
            if recipient and (failed or permanent):
                found.append(recipient.group(1).lower())
    return list(dict.fromkeys(found))


def bounce_status(msg: Message) -> str:
    """The DSN's Status and Diagnostic-Code, for the delivery error shown on the message."""
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            text = part.as_string()
            status = re.search(r"^Status:\s*(.+)$", text, re.MULTILINE | re.IGNORECASE)
            diag = re.search(r"^Diagnostic-Code:\s*(.+)$", text, re.MULTILINE | re.IGNORECASE)
            return " ".join(m.group(1).strip() for m in (status, diag) if m)[:500]
    return ""
