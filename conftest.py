"""Project-wide pytest fixtures: real PostgreSQL (embedded), tenants, users, API clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# database: test databases, and stopping the test server the session started.
pytest_plugins = [
    "autocrm.testing.browser",
    "autocrm.testing.database",
    "autocrm.testing.asgi_server",
]


@pytest.fixture(scope="session", autouse=True)
def _test_storage_and_hashing(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploaded files go to a temporary folder, never var/media; passwords use a fast hasher
    (Argon2 is memory-hard by design and would dominate tests that create users;
    autocrm/accounts/tests/test_hashing.py checks production settings still use Argon2)."""
    from django.conf import settings
    from django.core.files.storage import default_storage, storages
    from django.utils.functional import empty

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path_factory.mktemp("media"))},
        },
    }
    storages._storages = {}  # type: ignore[attr-defined]
    default_storage._wrapped = empty  # type: ignore[attr-defined]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker: pytest.FixtureRequest, worker_id: str) -> Iterator[None]:
    # Imported here: the module is also a plugin (above), registered after this file loads.
    from autocrm.testing.database import setup_test_database, teardown_test_database

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
