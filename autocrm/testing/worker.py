"""A real procrastinate worker for tests, run in-process against the test database.

``run_worker_until_idle`` does what ``manage.py procrastinate worker`` does (the Django app
with its worker connector: a psycopg pool on the test database), but returns once no job is
due. Jobs run in worker threads on their own connections, so tests that use it need
committed data: mark them ``django_db(transaction=True)`` and call ``clear_jobs`` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection
from procrastinate.app import WorkerOptions
from procrastinate.contrib.django import DjangoApp, app
from procrastinate.contrib.django.django_connector import DjangoConnector


def run_worker_until_idle(queues: Sequence[str] | None = None) -> None:
    """Run a worker until no job is due. In its own thread: a test session may have an event
    loop running in the main thread (Playwright's sync API does), where asyncio.run fails."""
    connector = app.connector
    assert isinstance(connector, DjangoConnector)
    failure: list[BaseException] = []

    def work() -> None:
        try:
            with app.replace_connector(connector.get_worker_connector()):
                app.run_worker(
                    queues=list(queues) if queues else None,
                    wait=False,
                    install_signal_handlers=False,
                    listen_notify=False,
                )
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=work, name="procrastinate-test-worker")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


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


@contextmanager
def running_worker(
    queues: Sequence[str] | None = None, *, polling_interval: float = 0.2
) -> Iterator[None]:
    """A worker that keeps running (and heartbeating) in a thread for the block's duration;
    it has registered itself in procrastinate_workers when the block starts. It polls for
    jobs every ``polling_interval`` seconds (the Django connector has no LISTEN/NOTIFY, which
    wakes the production worker at once): tests that time a path poll more often."""
    connector = app.connector
    assert isinstance(connector, DjangoConnector)
    worker_app = DjangoApp(connector=connector.get_worker_connector())
    worker_app.tasks = app.tasks
    loop = asyncio.new_event_loop()

    options: WorkerOptions = {
        "install_signal_handlers": False,
        "listen_notify": False,
        "fetch_job_polling_interval": polling_interval,
    }
    if queues:  # otherwise every queue
        options["queues"] = list(queues)

    async def work() -> None:
        async with worker_app.open_async():
            await worker_app.run_worker_async(**options)

    task = loop.create_task(work())

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)

    thread = threading.Thread(target=run, name="procrastinate-test-worker", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not _worker_registered():
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test worker did not start")
            time.sleep(0.05)
        yield
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(timeout=15)
        loop.close()


def _worker_registered() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_workers")
        row = cursor.fetchone()
    return bool(row and row[0])
