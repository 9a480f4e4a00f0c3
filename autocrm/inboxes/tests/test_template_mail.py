"""The agent's reply leaves wrapped in the tenant's template, in the requester's language
(sent to a real SMTP server, aiosmtpd, like test_outbound)."""

from __future__ import annotations

import pytest

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Contact
from autocrm.inboxes import notification_templates as nt
from autocrm.inboxes.outbound import outbound_send
from autocrm.inboxes.tasks import SEND
from autocrm.inboxes.tests.factories import inbox
from autocrm.inboxes.tests.test_outbound import _reply
from autocrm.testing.smtp import Smtp
from autocrm.tickets.tests.factories import SYSTEM

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_sent_reply_uses_the_tenants_template_in_the_requesters_language(
    tenant_a: Tenant,
    smtp: Smtp,
) -> None:
    with tenant_context(tenant_a):
        nt.template_save(
            tenant=tenant_a,
            actor=SYSTEM,
            kind=nt.AGENT_REPLIED,
            locale="de",
            subject="Antwort von {{ tenant.name }}: {{ ticket.subject }}",
            body="Hallo {{ requester.name }},\n\n{{ reply }}\n\nIhr Team <{{ tenant.name }}>",
        )
        nt.template_save(
            tenant=tenant_a,
            actor=SYSTEM,
            kind=nt.AGENT_REPLIED,
            locale="en",
            subject="English {{ ticket.subject }}",
            body="{{ reply }}",
        )
        Contact.objects.get_or_create(
            tenant=tenant_a, email="pat@customer.test", defaults={"locale": "de"}
        )
    message, outbound = _reply(tenant_a, inbox(tenant_a))
    assert outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk) == "sent"
    sent = smtp.handler.messages[0]
    with tenant_context(tenant_a):
        number = message.ticket.number
    assert sent["Subject"] == f"Antwort von {tenant_a.name}: Broken login [#{number}]"
    plain = sent.get_body(preferencelist=("plain",))
    rich = sent.get_body(preferencelist=("html",))
    assert plain is not None and rich is not None
    assert plain.get_content().startswith("Hallo ")
    assert "Reset it here." in plain.get_content()
    assert f"Ihr Team <{tenant_a.name}>" in plain.get_content()
    html = rich.get_content()
    assert "<b>here</b>" in html  # the sanitized reply stays HTML
    assert f"Ihr Team &lt;{tenant_a.name}&gt;" in html  # the template's text is escaped
