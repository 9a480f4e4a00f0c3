"""The pooled database connections outlive a PostgreSQL restart: the pool checks a connection
as it hands it out (``CONN_HEALTH_CHECKS``, config/settings.py), so a connection the restart
cut off is replaced instead of failing the request that drew it.

Through the real server (uvicorn, config.asgi): it hands each request's connection back to
the pool when the request ends, as production does (Django's test client keeps it instead).
On a PostgreSQL server of the test's own (``ThrowawayServer``): the shared test server holds
the other xdist workers' databases, which a restart would cut off."""

from __future__ import annotations

import httpx
import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant
from autocrm.testing.asgi_server import AsgiServer
from autocrm.testing.database import ThrowawayServer

pytestmark = pytest.mark.django_db(transaction=True)


def test_requests_after_a_postgresql_restart_get_their_pages(asgi_server: AsgiServer) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    signed_in = Client()
    signed_in.force_login(member(tenant, "agent", email="agent@acme.test"))
    cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    with (
        ThrowawayServer() as server,
        server.connected(),
        httpx.Client(
            base_url=asgi_server.url,
            cookies={settings.SESSION_COOKIE_NAME: cookie},
            timeout=120,
        ) as http,
    ):
        assert http.get("/acme/agent/").status_code == 200
        pool = connections["default"].pool  # type: ignore[attr-defined]
        pool.wait()  # its min_size connections are open, idle with the page's one
        idle = pool.get_stats()["pool_available"]
        assert idle >= 2

        server.restart()  # every session ended: the pooled connections are dead

        # More requests than the pool held idle connections: each would have drawn one.
        for _ in range(idle + 1):
            page = http.get("/acme/agent/")
            assert page.status_code == 200, page.text[:500]
            assert http.get("/healthz").json()["database"] == "ok"
