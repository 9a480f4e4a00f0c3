from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key
from autocrm.core.models import Tenant
from autocrm.inboxes.models import Inbox
from autocrm.inboxes.tests.factories import inbox
from autocrm.testing.imap import Dovecot
from autocrm.testing.smtp import Smtp, free_port
from autocrm.tickets.tests.api_client import Api

USER, PASSWORD = "support@acme.test", "s3cret-imap"


@pytest.fixture
def api(client: Client, tenant_a: Tenant) -> Api:
    """The API with an admin-scope key of tenant A."""
    return Api(client, api_key(tenant_a, scope="admin"))


@pytest.fixture
def box(tenant_a: Tenant) -> Inbox:
    return inbox(tenant_a)


@pytest.fixture
def dovecot(settings: Any) -> Iterator[Dovecot]:
    """A private Dovecot with the mailbox USER / PASSWORD, on 127.0.0.1."""
    settings.IMAP_ALLOW_PRIVATE_HOSTS = True
    server = Dovecot({USER: PASSWORD})
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def smtp(settings: Any) -> Iterator[Smtp]:
    """A real SMTP server (aiosmtpd) that Django's SMTP backend sends to."""
    server = Smtp(free_port())
    server.configure(settings)
    server.start()
    yield server
    server.stop()
