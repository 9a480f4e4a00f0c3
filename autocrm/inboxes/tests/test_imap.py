"""IMAP inbound against a real Dovecot per test: every mail a message exactly once, also when
the mailbox is fetched twice, the worker is SIGKILLed mid-import or PostgreSQL is restarted
mid-fetch; a refusing server is shown on the inbox, never a silent stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError, connection, connections

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core import embedded_db
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes import imap, services
from autocrm.inboxes.idle import NO_IDLE, idle_watch
from autocrm.inboxes.models import InboundEmail, Inbox
from autocrm.inboxes.tests.conftest import PASSWORD, USER
from autocrm.inboxes.tests.factories import inbox, mail
from autocrm.testing.database import ThrowawayServer
from autocrm.testing.imap import Dovecot, dovecot_available
from autocrm.tickets.models import Attachment, Message, Ticket

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "owner"]),
    pytest.mark.skipif(
        not dovecot_available() and not os.environ.get("CI"),
        reason="Dovecot is not installed (make dovecot)",
    ),
]


def _imap_inbox(tenant: Tenant, server: Dovecot, **kwargs: Any) -> Inbox:
    return inbox(
        tenant,
        imap_enabled=True,
        imap_host="127.0.0.1",
        imap_port=server.port,
        imap_security="none",
        imap_username=USER,
        imap_password=kwargs.pop("password", PASSWORD),
        **kwargs,
    )


def _mails(n: int, *, size: int = 0) -> list[bytes]:
    attachment = [("notes.txt", b"x" * size, "text/plain")] if size else []
    return [
        mail(
            sender=f"Customer {i} <c{i}@customer.test>",
            subject=f"Question {i}",
            message_id=f"<q{i}@customer.test>",
            attachments=attachment,
        )
        for i in range(n)
    ]


def _fetch(tenant: Tenant, box: Inbox) -> imap.FetchReport:
    return imap.imap_fetch(tenant=tenant, actor=imap.FETCH, inbox_id=box.pk)


def _assert_each_once(tenant: Tenant, n: int) -> None:
    with tenant_context(tenant):
        assert InboundEmail.objects.count() == n
        assert Ticket.objects.count() == n
        assert Message.objects.filter(public=True).count() == n
        subjects = sorted(Ticket.objects.values_list("subject", flat=True))
    assert subjects == sorted(f"Question {i}" for i in range(n))


def _flags(server: Dovecot, folder: str = "INBOX") -> list[bytes]:
    conn = server.client(USER)
    try:
        _, count = conn.select(folder, readonly=True)
        if count[0] == b"0":
            return []
        typ, data = conn.fetch("1:*", "(FLAGS)")
        return [d for d in data if isinstance(d, bytes)] if typ == "OK" and data[0] else []
    finally:
        conn.logout()


def test_the_password_is_stored_encrypted_and_never_shown(
    tenant_a: Tenant, dovecot: Dovecot, client: Any
) -> None:
    box = _imap_inbox(tenant_a, dovecot)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', %s, false)", [str(tenant_a.pk)])
        cursor.execute("SELECT imap_password FROM inboxes_inbox WHERE id = %s", [box.pk])
        (stored,) = cursor.fetchone()
        cursor.execute("SELECT set_config('app.tenant_id', '', false)")
    assert stored and PASSWORD not in stored
    assert imap.ImapConfig.of(box).password == PASSWORD
    with tenant_context(tenant_a):
        events = list(Event.objects.filter(type__startswith="inbox.").values_list("payload"))
    assert PASSWORD not in str(events) and stored not in str(events)

    from autocrm.accounts.tests.factories import api_key
    from autocrm.tickets.tests.api_client import Api

    shown = Api(client, api_key(tenant_a, scope="admin")).call("get", f"/inboxes/{box.pk}")
    assert shown.status_code == 200
    body = shown.json()
    assert body["imap_password_set"] is True and "imap_password" not in body
    assert PASSWORD not in shown.content.decode()


def test_the_connection_test_logs_in_and_says_why_not(tenant_a: Tenant, dovecot: Dovecot) -> None:
    box = _imap_inbox(tenant_a, dovecot)
    dovecot.deliver(USER, *_mails(2))
    assert imap.imap_test(inbox=box) == imap.ImapTestResult(ok=True, messages=2, idle=True)

    refused = imap.imap_test(inbox=box, password="wrong")
    assert not refused.ok and "login" in refused.error.lower()
    nobody = imap.imap_test(inbox=box, port=1)
    assert not nobody.ok and "refused the connection" in nobody.error


def test_a_private_server_is_refused_unless_allowed(
    tenant_a: Tenant, dovecot: Dovecot, settings: Any
) -> None:
    box = _imap_inbox(tenant_a, dovecot)
    settings.IMAP_ALLOW_PRIVATE_HOSTS = False
    result = imap.imap_test(inbox=box)
    assert not result.ok and "127.0.0.1" in result.error and "loopback" in result.error


def test_every_mail_is_imported_once_and_flagged_even_when_fetched_twice(
    tenant_a: Tenant, dovecot: Dovecot
) -> None:
    box = _imap_inbox(tenant_a, dovecot)
    dovecot.deliver(USER, *_mails(5))
    report = _fetch(tenant_a, box)
    assert (report.imported, report.duplicates, report.error) == (5, 0, "")
    assert all(imap.IMPORTED.encode() in line for line in _flags(dovecot))
    assert _fetch(tenant_a, box).imported == 0  # nothing new

    # The same mailbox again from scratch (flags cleared, as a second AutoCRM or a person
    # could): every mail is downloaded again, and none becomes a second message.
    conn = dovecot.client(USER)
    conn.select("INBOX")
    conn.store("1:*", "-FLAGS", imap.IMPORTED)
    conn.logout()
    again = _fetch(tenant_a, box)
    assert (again.imported, again.duplicates) == (0, 5)
    _assert_each_once(tenant_a, 5)
    with tenant_context(tenant_a):
        box.refresh_from_db()
        assert box.imap_last_fetched_at is not None and box.imap_last_error == ""
        assert set(InboundEmail.objects.values_list("outcome", flat=True)) == {"created"}


def test_move_mode_empties_the_folder_into_processed(tenant_a: Tenant, dovecot: Dovecot) -> None:
    box = _imap_inbox(tenant_a, dovecot, imap_processed="move", imap_processed_folder="Done")
    dovecot.deliver(USER, *_mails(3))
    assert _fetch(tenant_a, box).imported == 3
    assert _flags(dovecot) == []
    assert len(_flags(dovecot, "Done")) == 3
    assert _fetch(tenant_a, box).imported == 0


def test_a_message_over_the_limit_is_left_flagged_and_logged(
    tenant_a: Tenant, dovecot: Dovecot, settings: Any
) -> None:
    box = _imap_inbox(tenant_a, dovecot)
    settings.INBOUND_EMAIL_MAX_BYTES = 50_000
    dovecot.deliver(USER, *_mails(1), *_mails(1, size=80_000)[0:1])
    dovecot.deliver(USER, mail(subject="fine", message_id="<fine@customer.test>"))
    report = _fetch(tenant_a, box)
    # The two first mails share a Message-ID: the small one is imported, the big one refused.
    assert (report.imported, report.rejected) == (2, 1)
    flags = _flags(dovecot)
    assert sum(imap.REJECTED.encode() in line for line in flags) == 1
    with tenant_context(tenant_a):
        rejected = Event.objects.get(type="email.rejected")
        assert Ticket.objects.count() == 2
    assert rejected.payload["via"] == "imap" and "limit is 50000" in rejected.payload["reason"]
    assert _fetch(tenant_a, box).rejected == 0  # not downloaded again


def test_unimportable_mail_is_left_flagged_and_logged_the_rest_imported(
    tenant_a: Tenant, dovecot: Dovecot
) -> None:
    box = _imap_inbox(tenant_a, dovecot)
    injected = (
        b"From: pat@customer.test\r\nMessage-ID: <inj@customer.test>\r\n"
        b"Reply-To: =?utf-8?q?a@b.test=0ABcc:_c@d.test?=\r\nSubject: hi\r\n\r\nx\r\n"
    )
    no_sender = b"Subject: nobody\r\nMessage-ID: <none@customer.test>\r\n\r\nHello\r\n"
    dovecot.deliver(USER, injected, *_mails(1), no_sender)
    report = _fetch(tenant_a, box)
    assert (report.imported, report.rejected, report.error) == (1, 2, "")
    flags = _flags(dovecot)
    assert sum(imap.REJECTED.encode() in line for line in flags) == 2
    assert all(imap.IMPORTED.encode() in line for line in flags)  # none downloaded again
    with tenant_context(tenant_a):
        reasons = sorted(e.payload["reason"] for e in Event.objects.filter(type="email.rejected"))
        assert list(Ticket.objects.values_list("subject", flat=True)) == ["Question 0"]
        assert InboundEmail.objects.count() == 1
    assert "no sender" in reasons[0] and "injection" in reasons[1]
    assert _fetch(tenant_a, box).rejected == 0


def test_a_refusing_server_shows_on_the_inbox_until_it_works_again(
    tenant_a: Tenant, dovecot: Dovecot
) -> None:
    box = _imap_inbox(tenant_a, dovecot, password="wrong")
    report = _fetch(tenant_a, box)
    assert "login" in report.error.lower()
    assert _fetch(tenant_a, box).error == report.error  # polled again: one event only
    with tenant_context(tenant_a):
        box.refresh_from_db()
        assert box.imap_last_error == report.error and box.imap_last_error_at is not None
        assert box.imap_last_fetched_at is None
        assert Event.objects.filter(type="inbox.fetch_failed").count() == 1
        services.inbox_update(
            tenant=tenant_a, actor=SYSTEM, inbox=box, changes={"imap_password": PASSWORD}
        )
    dovecot.deliver(USER, *_mails(1))
    assert _fetch(tenant_a, box).imported == 1
    dovecot.stop()
    down = _fetch(tenant_a, box)
    assert "refused the connection" in down.error
    with tenant_context(tenant_a):
        box.refresh_from_db()
        assert box.imap_last_error == down.error and box.imap_last_fetched_at is not None
        assert Event.objects.filter(type="inbox.fetch_recovered").count() == 1


def _subprocess_env() -> dict[str, str]:
    """The test database, for a process of its own."""
    db = connections["default"].settings_dict
    host, name = db["HOST"], db["NAME"]
    return {
        **os.environ,
        "DATABASE_URL": f"postgresql://{embedded_db.RUNTIME_ROLE}@/{name}?host={host}",
        "DATABASE_OWNER_URL": f"postgresql://{embedded_db.OWNER_ROLE}@/{name}?host={host}",
        "IMAP_ALLOW_PRIVATE_HOSTS": "1",
        "IMAP_FETCH_BATCH": "200",  # one batch: the kill lands before anything is flagged
        "DB_POOL_MAX_SIZE": "0",
    }


def _imported(tenant: Tenant) -> int:
    with tenant_context(tenant):
        return InboundEmail.objects.count()


def test_a_worker_killed_mid_import_loses_and_doubles_nothing(
    tenant_a: Tenant, dovecot: Dovecot
) -> None:
    from autocrm.testing.worker import clear_jobs

    clear_jobs()
    box = _imap_inbox(tenant_a, dovecot)
    total = 60
    dovecot.deliver(USER, *_mails(total, size=100_000))
    from autocrm.inboxes.tasks import imap_fetch_defer

    assert imap_fetch_defer(tenant_id=tenant_a.pk, inbox_id=box.pk)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker", "--queues", "email"],
        cwd=Path(django_settings.BASE_DIR),
        env=_subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        # A worker's start (Django, the job's first fetch of 6 MB) took over a minute on a
        # loaded 2-core machine: this bounds a hang, it measures nothing.
        deadline = time.monotonic() + 180
        while _imported(tenant_a) < 5:
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker imported nothing"
            time.sleep(0.01)
        os.killpg(worker.pid, signal.SIGKILL)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    stopped_at = _imported(tenant_a)
    assert 5 <= stopped_at < total
    assert not any(imap.IMPORTED.encode() in line for line in _flags(dovecot))

    report = _fetch(tenant_a, box)  # the restarted worker's next fetch
    assert report.duplicates == stopped_at and report.imported == total - stopped_at
    _assert_each_once(tenant_a, total)
    assert all(imap.IMPORTED.encode() in line for line in _flags(dovecot))


def test_postgresql_restarted_mid_fetch_loses_and_doubles_nothing(
    tenant_a: Tenant, dovecot: Dovecot, settings: Any
) -> None:
    """PostgreSQL restarted (``pg_ctl restart``, fast: every session ended, connections
    refused until it is up) while a fetch imports: the fetch fails and the inbox says so,
    the mail being imported leaves nothing half-made, the next fetch imports the rest. On a
    server of the test's own: the shared test server holds the other xdist workers'
    databases, which a restart would cut off mid-test."""
    box = _imap_inbox(tenant_a, dovecot)
    total = 60
    settings.IMAP_FETCH_BATCH = 200  # one batch: nothing is flagged before the restart
    dovecot.deliver(USER, *_mails(total, size=50_000))
    with ThrowawayServer() as server, server.connected():
        restarted: list[float] = []

        def restart_mid_fetch() -> None:
            with server.superuser() as conn:  # sees every tenant's committed rows
                deadline = time.monotonic() + 180  # bounds a hang, measures nothing
                count = "SELECT count(*) FROM inboxes_inboundemail"
                while conn.execute(count).fetchone()[0] < 5:  # type: ignore[index]
                    if time.monotonic() > deadline:
                        return
                    time.sleep(0.01)
            server.restart()
            restarted.append(time.monotonic())

        thread = threading.Thread(target=restart_mid_fetch)
        thread.start()
        try:
            with pytest.raises(DatabaseError):
                _fetch(tenant_a, box)
        finally:
            thread.join(180)
        assert restarted, "the fetch never imported 5 mails"
        cut_at = _imported(tenant_a)
        assert 5 <= cut_at < total
        with tenant_context(tenant_a):
            # Every import either committed whole or left nothing: no ticket without its
            # message, attachment and inbound row.
            assert Ticket.objects.count() == Message.objects.count() == cut_at
            assert Attachment.objects.count() == cut_at
            whole = InboundEmail.objects.filter(outcome="created", message__isnull=False)
            assert whole.count() == InboundEmail.objects.count() == cut_at
            box.refresh_from_db()
            failed = Event.objects.filter(type="inbox.fetch_failed").get()
        # Recorded once the restarted server answered.
        assert "database failed" in box.imap_last_error
        assert failed.payload["error"] == box.imap_last_error
        assert not any(imap.IMPORTED.encode() in line for line in _flags(dovecot))

        report = _fetch(tenant_a, box)
        assert (report.duplicates, report.imported, report.error) == (cut_at, total - cut_at, "")
        _assert_each_once(tenant_a, total)
        with tenant_context(tenant_a):
            assert Attachment.objects.count() == total
            box.refresh_from_db()
            assert Event.objects.filter(type="inbox.fetch_recovered").count() == 1
        assert box.imap_last_error == "" and box.imap_last_fetched_at is not None
        assert all(imap.IMPORTED.encode() in line for line in _flags(dovecot))


def test_idle_announces_new_mail_within_seconds(tenant_a: Tenant, dovecot: Dovecot) -> None:
    box = _imap_inbox(tenant_a, dovecot)
    stop = threading.Event()
    pushed = threading.Event()
    ended: list[str] = []
    watcher = threading.Thread(
        target=lambda: ended.append(
            idle_watch(
                tenant_id=tenant_a.pk,
                inbox_id=box.pk,
                stop=stop,
                on_new_mail=pushed.set,
                idle_seconds=30,
            )
        )
    )
    watcher.start()
    try:
        time.sleep(0.5)  # connected and idling
        started = time.monotonic()
        dovecot.deliver(USER, *_mails(1))
        assert pushed.wait(10)
        assert time.monotonic() - started < 5
    finally:
        stop.set()
        watcher.join(10)
    assert ended == ["stopped"]
    assert NO_IDLE != "stopped"


def test_the_poller_queues_one_fetch_per_inbox_and_the_worker_imports(
    tenant_a: Tenant, dovecot: Dovecot
) -> None:
    from autocrm.inboxes.tasks import imap_poll
    from autocrm.testing.worker import clear_jobs, run_worker_until_idle

    clear_jobs()
    box = _imap_inbox(tenant_a, dovecot)
    inbox(tenant_a, address="plain@acme.test")  # no IMAP: not polled
    dovecot.deliver(USER, *_mails(3))
    assert imap_poll(0) == 1
    assert imap_poll(0) == 0  # one waiting already
    run_worker_until_idle(queues=["email"])
    _assert_each_once(tenant_a, 3)
    with tenant_context(tenant_a):
        box.refresh_from_db()
    assert box.imap_last_fetched_at is not None


def test_the_api_sets_tests_and_fetches_imap(
    tenant_a: Tenant, dovecot: Dovecot, client: Any
) -> None:
    from autocrm.accounts.tests.factories import api_key
    from autocrm.testing.worker import clear_jobs
    from autocrm.tickets.tests.api_client import Api

    clear_jobs()
    api = Api(client, api_key(tenant_a, scope="admin"))
    created = api.call(
        "post",
        "/inboxes",
        {"name": "Support", "address": USER, "imap_enabled": True, "imap_host": "127.0.0.1"},
    )
    assert created.status_code == 422 and "imap_username" in created.content.decode()
    created = api.call(
        "post",
        "/inboxes",
        {
            "name": "Support",
            "address": USER,
            "imap_host": "127.0.0.1",
            "imap_port": dovecot.port,
            "imap_security": "none",
            "imap_username": USER,
        },
    )
    assert created.status_code == 201, created.content
    box_id = created.json()["id"]
    # Unsaved values first (the settings page's "Test connection"), then saved ones.
    tried = api.call("post", f"/inboxes/{box_id}/imap/test", {"imap_password": PASSWORD})
    assert tried.json() == {"ok": True, "error": "", "messages": 0, "idle": True}
    assert api.call("post", f"/inboxes/{box_id}/imap/test", {}).json()["ok"] is False
    assert api.call("post", f"/inboxes/{box_id}/imap/fetch").status_code == 422
    patched = api.call(
        "patch", f"/inboxes/{box_id}", {"imap_password": PASSWORD, "imap_enabled": True}
    )
    assert patched.status_code == 200 and patched.json()["imap_password_set"] is True
    assert api.call("post", f"/inboxes/{box_id}/imap/fetch").json() == {"queued": True}
    assert api.call("post", f"/inboxes/{box_id}/imap/fetch").json() == {"queued": False}
    bad = api.call("patch", f"/inboxes/{box_id}", {"imap_security": "tls13"})
    assert bad.status_code == 422
