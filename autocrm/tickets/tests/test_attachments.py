"""Attachments: content sniffing, limits, access, and both storage backends (local disk and
an S3-compatible server — moto's, running as a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import transaction

from autocrm.accounts.actors import actor_for_membership
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets import attachments, selectors, services
from autocrm.tickets.models import Attachment
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n" + b"0" * 100


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (PDF, "x.exe", "application/pdf"),
        (b"hello, world\n", "notes.txt", "text/plain"),
        (b"\xff\xfe\x00binary", "notes.txt", "application/octet-stream"),
        (b"<html><script>alert(1)</script>", "page.html", "application/octet-stream"),
    ],
)
def test_content_type_comes_from_the_bytes(head: bytes, name: str, expected: str) -> None:
    assert attachments.sniff_content_type(head, name) == expected


def _upload(
    tenant: Tenant,
    ticket_id: int,
    data: bytes = PDF,
    name: str = "report.pdf",
    actor: Actor = SYSTEM,
    message_id: int | None = None,
) -> Attachment:
    return attachments.attachment_create(
        tenant=tenant,
        actor=actor,
        ticket_id=ticket_id,
        upload=io.BytesIO(data),
        filename=name,
        size=len(data),
        message_id=message_id,
    )


def test_stored_with_checksum_and_path_traversal_removed(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        with django_capture_on_commit_callbacks(execute=True):
            a = _upload(tenant_a, t.pk, name="../../etc/passwd.pdf")
        assert a.filename == "passwd.pdf" and a.size == len(PDF)
        import hashlib

        assert a.sha256 == hashlib.sha256(PDF).hexdigest()
        with a.file.open("rb") as stored:
            assert stored.read() == PDF


def test_over_the_limit_or_empty_is_refused_and_nothing_is_stored(
    tenant_a: Tenant, settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 50
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        with pytest.raises(ValidationError, match="limit"):
            _upload(tenant_a, t.pk)
        with pytest.raises(ValidationError, match="empty"):
            _upload(tenant_a, t.pk, data=b"")
        assert not Attachment.objects.exists()


def test_customers_cannot_fetch_files_of_internal_notes(tenant_a: Tenant) -> None:
    from autocrm.accounts.models import Membership
    from autocrm.accounts.tests.factories import member

    user = member(tenant_a, "customer")
    with tenant_context(tenant_a):
        customer = actor_for_membership(Membership.objects.select_related("user").get(user=user))
        t = ticket(tenant_a, actor=customer, requester_email=None)
        note = services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="internal", public=False
        )
        hidden = _upload(tenant_a, t.pk, message_id=note.pk)
        shown = _upload(tenant_a, t.pk)
        assert (
            selectors.attachment_get(tenant=tenant_a, actor=customer, attachment_id=shown.pk)
            == shown
        )
        with pytest.raises(Attachment.DoesNotExist):
            selectors.attachment_get(tenant=tenant_a, actor=customer, attachment_id=hidden.pk)


def test_a_file_uploaded_ahead_of_its_message_stays_hidden_from_customers_until_claimed(
    tenant_a: Tenant,
) -> None:
    """An image pasted into an internal note that is never sent must not reach the
    customer; once a public reply claims an image, the customer sees it."""
    from autocrm.accounts.models import Membership
    from autocrm.accounts.tests.factories import member

    def actor(role: str) -> Actor:
        user = member(tenant_a, role)
        return actor_for_membership(Membership.objects.select_related("user").get(user=user))

    with tenant_context(tenant_a):
        customer, agent = actor("customer"), actor("agent")
        t = ticket(tenant_a, actor=customer, requester_email=None)

        def pending_upload() -> Attachment:
            return attachments.attachment_create(
                tenant=tenant_a,
                actor=agent,
                ticket_id=t.pk,
                upload=io.BytesIO(PDF),
                filename="screen.pdf",
                size=len(PDF),
                pending=True,
            )

        def customer_sees() -> set[int]:
            listed = selectors.attachment_list(tenant=tenant_a, actor=customer, ticket=t)
            return {a.pk for a in listed}

        unsent, for_note, for_reply = pending_upload(), pending_upload(), pending_upload()
        staff = selectors.attachment_list(tenant=tenant_a, actor=agent, ticket=t)
        assert {a.pk for a in staff} == {unsent.pk, for_note.pk, for_reply.pk}
        assert customer_sees() == set()
        with pytest.raises(Attachment.DoesNotExist):
            selectors.attachment_get(tenant=tenant_a, actor=customer, attachment_id=unsent.pk)

        for public, claimed in ((False, for_note), (True, for_reply)):
            message = services.ticket_message_add(
                tenant=tenant_a, actor=agent, ticket_id=t.pk, body="see image", public=public
            )
            assert (
                attachments.attachments_claim(
                    tenant=tenant_a,
                    actor=agent,
                    ticket_id=t.pk,
                    message_id=message.pk,
                    attachment_ids={claimed.pk},
                )
                == 1
            )
        assert customer_sees() == {for_reply.pk}
        assert (
            selectors.attachment_get(tenant=tenant_a, actor=customer, attachment_id=for_reply.pk)
            == for_reply
        )
        with pytest.raises(Attachment.DoesNotExist):
            selectors.attachment_get(tenant=tenant_a, actor=customer, attachment_id=unsent.pk)


@pytest.fixture
def s3_storage(settings: Any) -> Iterator[None]:
    """The S3 backend against moto's S3-compatible HTTP server on a free local port."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket="autocrm-test")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "autocrm-test",
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "test",
                "secret_key": "test",
                "default_acl": "private",
                "file_overwrite": False,
            },
        },
    }
    storages._storages = {}  # type: ignore[attr-defined]  # rebuild from the new setting
    try:
        yield
    finally:
        storages._storages = {}  # type: ignore[attr-defined]
        server.stop()


def test_attachments_round_trip_through_s3_compatible_storage(
    tenant_a: Tenant, s3_storage: None, django_capture_on_commit_callbacks: Any
) -> None:
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        with django_capture_on_commit_callbacks(execute=True):
            a = _upload(tenant_a, t.pk)
        assert type(storages["default"]).__name__ == "S3Storage"
        assert a.file.name and storages["default"].exists(a.file.name)
        with a.file.open("rb") as stored:
            assert stored.read() == PDF
    name = a.file.name
    assert name
    with tenant_context(tenant_a), django_capture_on_commit_callbacks(execute=True):
        services.ticket_delete(tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk)
    assert not storages["default"].exists(name)


def test_a_file_is_stored_only_when_its_transaction_commits(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    """A transaction that rolls back after the upload (a later step of the request failed)
    leaves no orphan file; one that commits stores it under the name its row holds."""
    storage = storages["default"]
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        with pytest.raises(RuntimeError), transaction.atomic():
            dropped = _upload(tenant_a, t.pk, name="dropped.pdf")
            raise RuntimeError("a later step fails")
        assert dropped.file.name and not storage.exists(dropped.file.name)
        assert not Attachment.objects.filter(pk=dropped.pk).exists()
        with django_capture_on_commit_callbacks(execute=True):
            kept = _upload(tenant_a, t.pk, name="kept-" + "x" * 200 + ".pdf")
        stored = Attachment.objects.get(pk=kept.pk).file.name
        assert stored is not None and stored == kept.file.name and storage.exists(stored)
        assert len(stored) <= 100 and stored.endswith(".pdf")
        with attachments.attachment_open(kept) as f:
            assert f.read() == PDF
        storage.delete(stored)
        with pytest.raises(FileNotFoundError):
            attachments.attachment_open(kept)
