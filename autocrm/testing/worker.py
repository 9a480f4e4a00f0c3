"""A real procrastinate worker for tests, run in-process against the test database.

``run_worker_until_idle`` does what ``manage.py procrastinate worker`` does (the Django app
with its worker connector: a psycopg pool on the test database), but returns once no job is
due. Jobs run in worker threads on their own connections, so tests that use it need
committed data: mark them ``django_db(transaction=True)`` and call ``clear_jobs`` first.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.contrib.django.django_connector import DjangoConnector


def run_worker_until_idle(queues: Sequence[str] | None = None) -> None:
    connector = app.connector
    assert isinstance(connector, DjangoConnector)
    with app.replace_connector(connector.get_worker_connector()):
        app.run_worker(
            queues=list(queues) if queues else None,
            wait=False,
            install_signal_handlers=False,
            listen_notify=False,
        )


def clear_jobs() -> None:
    """Jobs and workers are not Django-managed tables, so test flushes leave them behind."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_periodic_defers")
        cursor.execute("DELETE FROM procrastinate_jobs")
        cursor.execute("DELETE FROM procrastinate_workers")


def make_jobs_due() -> None:
    """Retries are scheduled in the future (backoff); bring them forward to now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = now() "
            "WHERE status = 'todo' AND scheduled_at > now()"
        )
