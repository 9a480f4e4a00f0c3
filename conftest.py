"""Project-wide pytest fixtures: real PostgreSQL (embedded), tenants, users, API clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autocrm.testing.database import setup_test_database, teardown_test_database

pytest_plugins = ["autocrm.testing.browser"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker: pytest.FixtureRequest, worker_id: str) -> Iterator[None]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        dbname = setup_test_database(worker_id)
        yield
        teardown_test_database(dbname)


@pytest.fixture
def tenant_a(db: None):  # type: ignore[no-untyped-def]
    from autocrm.core.tests.factories import TenantFactory

    return TenantFactory(slug="acme", name="Acme")


@pytest.fixture
def tenant_b(db: None):  # type: ignore[no-untyped-def]
    from autocrm.core.tests.factories import TenantFactory

    return TenantFactory(slug="globex", name="Globex")
