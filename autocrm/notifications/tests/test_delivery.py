"""Delivery attempts against a real HTTP receiver on 127.0.0.1 (no mocked HTTP)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from autocrm.accounts.tests.factories import SYSTEM, actor_of, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import selectors, services
from autocrm.notifications.models import DeliveryStatus, WebhookSubscription
from autocrm.notifications.signing import SignatureError, verify
from autocrm.notifications.tasks import webhook_deliver
from autocrm.notifications.tests.conftest import Receiver
from autocrm.notifications.tests.helpers import deliver_jobs, deliveries, make_event

pytestmark = pytest.mark.django_db


def _subscribe(tenant: Tenant, url: str, **kwargs: Any) -> Any:
    return services.webhook_subscription_create(tenant=tenant, actor=SYSTEM, url=url, **kwargs)


def _fan_out(tenant: Tenant, type: str = "ticket.created") -> Any:
    event = make_event(tenant, type)
    return services.webhook_deliveries_create_for_event(tenant=tenant, actor=SYSTEM, event=event)


def _attempts(tenant: Tenant, delivery: Any) -> Any:
    with tenant_context(tenant):
        return list(
            selectors.webhook_delivery_attempts(tenant=tenant, actor=SYSTEM, delivery=delivery)
        )


def test_a_delivered_request_verifies_from_the_receivers_side(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    sub = _subscribe(tenant_a, receiver.url)
    (delivery,) = _fan_out(tenant_a)
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=delivery.pk, attempt=1)

    (request,) = receiver.requests
    assert request.path == "/hooks/autocrm"
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "AutoCRM-Webhooks/1"
    assert headers["X-AutoCRM-Event"] == "ticket.created"
    assert headers["X-AutoCRM-Delivery"] == str(delivery.pk)
    assert abs(int(headers["X-AutoCRM-Timestamp"]) - time.time()) < 60
    assert verify(sub.secret, headers, request.body) == int(headers["X-AutoCRM-Timestamp"])
    with pytest.raises(SignatureError):
        verify("whsec_wrong", headers, request.body)
    with pytest.raises(SignatureError):
        verify(sub.secret, headers, request.body, now=time.time() + 301)
    with pytest.raises(SignatureError):
        verify(sub.secret, headers, request.body.replace(b"Printer", b"Scanner"))
    body = json.loads(request.body)
    assert body["type"] == "ticket.created" and body["tenant"] == "acme"
    assert body["data"] == {"subject": "Printer on fire"}

    (delivery,) = deliveries(tenant_a)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 1
    assert delivery.response_status == 200 and delivery.response_body == '{"ok":true}'
    assert delivery.request_headers["X-AutoCRM-Signature"] == headers["X-AutoCRM-Signature"]
    assert delivery.duration_ms is not None and delivery.next_attempt_at is None
    # The same job again (a duplicate) does nothing.
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=delivery.pk, attempt=1)
    assert len(receiver.requests) == 1


def test_a_failed_attempt_is_retried_with_backoff_then_succeeds(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    _subscribe(tenant_a, receiver.url)
    receiver.script((500, {"X-Why": "overloaded"}, b"x" * 10_000))
    (delivery,) = _fan_out(tenant_a)
    before = timezone.now()
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=delivery.pk, attempt=1)

    (delivery,) = deliveries(tenant_a)
    assert delivery.status == DeliveryStatus.RETRYING and delivery.response_status == 500
    assert len(delivery.response_body) == 4096  # truncated
    assert delivery.response_headers["X-Why"] == "overloaded"
    # First retry after 1 minute +-20 % jitter, queued as a procrastinate job at that time.
    next_at = delivery.next_attempt_at
    assert next_at is not None
    assert before + dt.timedelta(seconds=47) < next_at < timezone.now() + dt.timedelta(seconds=73)
    jobs = deliver_jobs(delivery.pk)
    assert [args["attempt"] for args, _ in jobs] == [1, 2]
    assert jobs[-1][1] == delivery.next_attempt_at

    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=delivery.pk, attempt=2)
    (delivery,) = deliveries(tenant_a)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 2
    first, second = _attempts(tenant_a, delivery)
    assert (first.number, first.response_status, first.succeeded) == (1, 500, False)
    assert (second.number, second.response_status, second.succeeded) == (2, 200, True)
    assert len(receiver.requests) == 2
    # Both attempts carried the same body and delivery id, each with its own signature.
    assert receiver.requests[0].body == receiver.requests[1].body
    with tenant_context(tenant_a):
        sub = WebhookSubscription.objects.get()
    assert sub.consecutive_failures == 0 and sub.failing_since is None


def test_backoff_doubles_up_to_the_cap_and_spans_about_a_day() -> None:
    delays = [services.retry_delay(n).total_seconds() for n in range(1, services.MAX_ATTEMPTS)]
    assert 48 <= delays[0] <= 72 and 96 <= delays[1] <= 144
    assert all(delay <= 2 * 3600 * 1.2 for delay in delays)
    nominal = sum(min(60 * 2 ** (n - 1), 7200) for n in range(1, services.MAX_ATTEMPTS))
    assert 22 * 3600 <= nominal <= 26 * 3600


def test_unreachable_receiver_is_a_failed_attempt(tenant_a: Tenant, allow_private: Any) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _subscribe(tenant_a, f"http://127.0.0.1:{port}/h")
    (delivery,) = _fan_out(tenant_a)
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=delivery.pk, attempt=1)
    (delivery,) = deliveries(tenant_a)
    assert delivery.status == DeliveryStatus.RETRYING and delivery.response_status is None
    assert "ConnectionRefused" in delivery.error


def test_redirects_are_not_followed(
    tenant_a: Tenant, receiver: Receiver, other_receiver: Receiver, allow_private: Any
) -> None:
    _subscribe(tenant_a, receiver.url)
    receiver.script((302, {"Location": other_receiver.url}, b""))
    (delivery,) = _fan_out(tenant_a)
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=delivery.pk, attempt=1)
    (delivery,) = deliveries(tenant_a)
    assert delivery.status == DeliveryStatus.RETRYING and delivery.response_status == 302
    assert "Redirects are not followed" in delivery.error
    assert other_receiver.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_targets_are_refused_again_at_delivery_time(
    tenant_a: Tenant, receiver: Receiver, settings: Any, host: str
) -> None:
    settings.ALLOW_PRIVATE_WEBHOOK_TARGETS = True
    _subscribe(tenant_a, receiver.url.replace("127.0.0.1", host))
    (delivery,) = _fan_out(tenant_a)
    # The address became private-only after the subscription was saved (here: the setting
    # was switched off; in production: a DNS answer changed).
    settings.ALLOW_PRIVATE_WEBHOOK_TARGETS = False
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=delivery.pk, attempt=1)
    assert receiver.requests == []
    (delivery,) = deliveries(tenant_a)
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.error.startswith("Refused") and "loopback" in delivery.error
    (attempt,) = _attempts(tenant_a, delivery)
    assert attempt.response_status is None and not attempt.succeeded


def test_persistent_failure_abandons_and_disables_with_a_notice(
    tenant_a: Tenant,
    receiver: Receiver,
    allow_private: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner = member(tenant_a, "owner", email="owner@example.test")
    member(tenant_a, "admin", email="admin@example.test")
    member(tenant_a, "agent", email="agent@example.test")
    sub = _subscribe(tenant_a, receiver.url)
    receiver.script(*[503] * services.MAX_ATTEMPTS)
    (delivery,) = _fan_out(tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        for attempt in range(1, services.MAX_ATTEMPTS + 1):
            webhook_deliver(tenant_id=tenant_a.pk, delivery_id=delivery.pk, attempt=attempt)
            if attempt < services.MAX_ATTEMPTS:
                assert deliveries(tenant_a)[0].status == DeliveryStatus.RETRYING
                assert mail.outbox == []
    assert len(receiver.requests) == services.MAX_ATTEMPTS
    (delivery,) = deliveries(tenant_a)
    assert delivery.status == DeliveryStatus.ABANDONED and delivery.next_attempt_at is None
    assert [a for a, _ in deliver_jobs(delivery.pk)][-1]["attempt"] == services.MAX_ATTEMPTS
    with tenant_context(tenant_a):
        sub = WebhookSubscription.objects.get(pk=sub.pk)
        disabled = Event.objects.get(type="webhook.disabled")
    assert not sub.active and sub.disabled_at is not None
    assert "HTTP 503" in sub.disabled_reason
    assert sub.consecutive_failures == services.MAX_ATTEMPTS
    assert disabled.subject_id == str(sub.pk) and disabled.payload["url"] == receiver.url
    (notice,) = mail.outbox
    assert sorted(notice.to) == ["admin@example.test", "owner@example.test"]
    assert receiver.url in notice.subject and "HTTP 503" in notice.body
    assert owner.email in notice.to

    # A disabled subscription gets no new deliveries; re-enabling clears the streak.
    assert _fan_out(tenant_a) == []
    sub = services.webhook_subscription_update(
        tenant=tenant_a, actor=actor_of(tenant_a, owner), subscription=sub, active=True
    )
    assert sub.active and sub.consecutive_failures == 0 and sub.disabled_reason == ""


def test_an_abandoned_delivery_does_not_disable_a_subscription_that_recovered(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    _subscribe(tenant_a, receiver.url)
    receiver.script(*[500] * services.MAX_ATTEMPTS)
    (failing,) = _fan_out(tenant_a)
    for attempt in range(1, services.MAX_ATTEMPTS):
        webhook_deliver(tenant_id=tenant_a.pk, delivery_id=failing.pk, attempt=attempt)
    receiver.responses.clear()
    # Meanwhile another event got through: the receiver works again.
    (other,) = _fan_out(tenant_a, "ticket.updated")
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=other.pk, attempt=1)
    receiver.script(500)
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=failing.pk, attempt=services.MAX_ATTEMPTS)
    assert deliveries(tenant_a, pk=failing.pk)[0].status == DeliveryStatus.ABANDONED
    with tenant_context(tenant_a):
        sub = WebhookSubscription.objects.get()
        assert not Event.objects.filter(type="webhook.disabled").exists()
    assert sub.active and sub.consecutive_failures == 1


def test_manual_redelivery_is_one_more_logged_attempt(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    admin = member(tenant_a, "admin")
    sub = _subscribe(tenant_a, receiver.url)
    (delivery,) = _fan_out(tenant_a)
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=delivery.pk, attempt=1)
    sub = services.webhook_subscription_rotate_secret(
        tenant=tenant_a, actor=actor_of(tenant_a, admin), subscription=sub
    )

    delivery = services.webhook_redeliver(
        tenant=tenant_a, actor=actor_of(tenant_a, admin), delivery=delivery
    )
    assert delivery.status == DeliveryStatus.PENDING
    args = [a for a, _ in deliver_jobs(delivery.pk)][-1]
    assert args == {
        "tenant_id": tenant_a.pk,
        "delivery_id": delivery.pk,
        "attempt": 2,
        "manual": True,
    }
    receiver.script(502)
    webhook_deliver(**args)
    (delivery,) = deliveries(tenant_a)
    # A failed manual redelivery is not retried on its own.
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempt_count == 2
    assert [a["attempt"] for a, _ in deliver_jobs(delivery.pk)] == [1, 2]

    services.webhook_redeliver(tenant=tenant_a, actor=actor_of(tenant_a, admin), delivery=delivery)
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=delivery.pk, attempt=3, manual=True)
    (delivery,) = deliveries(tenant_a)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    attempts = _attempts(tenant_a, delivery)
    assert [(a.number, a.manual, a.response_status) for a in attempts] == [
        (1, False, 200),
        (2, True, 502),
        (3, True, 200),
    ]
    # Same body and delivery id every time; the redeliveries are signed with the new secret.
    assert len({r.body for r in receiver.requests}) == 1
    assert {r.headers["X-AutoCRM-Delivery"] for r in receiver.requests} == {str(delivery.pk)}
    verify(sub.secret, receiver.requests[2].headers, receiver.requests[2].body)
    with pytest.raises(SignatureError):
        verify(sub.secret, receiver.requests[0].headers, receiver.requests[0].body)
    with tenant_context(tenant_a):
        requested = Event.objects.filter(type="webhook.redelivery_requested")
        assert requested.count() == 2
        assert requested.order_by("pk")[0].payload["delivery_id"] == delivery.pk


def test_attempts_of_a_deleted_or_disabled_subscription_stop(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    sub = _subscribe(tenant_a, receiver.url)
    first, second = _fan_out(tenant_a)[0], _fan_out(tenant_a, "ticket.updated")[0]
    services.webhook_subscription_update(
        tenant=tenant_a, actor=SYSTEM, subscription=sub, active=False
    )
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=first.pk, attempt=1)
    assert deliveries(tenant_a, pk=first.pk)[0].status == DeliveryStatus.ABANDONED
    services.webhook_subscription_delete(tenant=tenant_a, actor=SYSTEM, subscription=sub)
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=second.pk, attempt=1)
    assert receiver.requests == []


def test_a_receiver_that_dribbles_its_answer_is_cut_at_the_deadline(allow_private: Any) -> None:
    import socket
    import threading

    from autocrm.notifications import transport

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def dribble() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            # Every byte comes well within the socket timeout, the whole answer never does.
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"z" * 1000:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    started = time.monotonic()
    result = transport.post(
        f"http://127.0.0.1:{server.getsockname()[1]}/", body=b"{}", headers={}, timeout=0.5
    )
    stop.set()
    server.close()
    assert time.monotonic() - started < 2
    assert not result.ok and "within 0.5 s" in result.error
