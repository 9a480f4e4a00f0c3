"""Inboxes and emails for tests: real MIME built with the standard library."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes import services
from autocrm.inboxes.models import Inbox


def inbox(tenant: Tenant, address: str = "support@acme.test", **kwargs: Any) -> Inbox:
    with tenant_context(tenant):
        return services.inbox_create(
            tenant=tenant,
            actor=SYSTEM,
            name=kwargs.pop("name", "Support"),
            address=address,
            **kwargs,
        )


def mail(
    *,
    sender: str = "Pat Doe <pat@customer.test>",
    to: str = "support@acme.test",
    subject: str = "Printer on fire",
    text: str | None = "Hello, my printer is on fire.",
    html: str | None = None,
    message_id: str | None = "",
    in_reply_to: str = "",
    references: str = "",
    cc: str = "",
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
) -> bytes:
    """One message as bytes. ``message_id=""`` generates one, ``None`` leaves it out."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    if message_id is not None:
        msg["Message-ID"] = message_id or make_msgid(domain="customer.test")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    for filename, data, content_type in attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
