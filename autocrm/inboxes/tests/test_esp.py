"""Inbound webhooks of Mailgun, SendGrid, Postmark and Amazon SES, each request signed the way
that provider signs it (HMAC, ECDSA, basic auth, SNS RSA signature), through the real URL."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes import esp
from autocrm.inboxes.models import Inbox
from autocrm.inboxes.tests.factories import inbox, mail
from autocrm.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])


def _box(tenant: Tenant, provider: str, secret: str) -> Inbox:
    return inbox(tenant, esp_provider=provider, esp_secret=secret)


def _tickets(tenant: Tenant) -> list[str]:
    with tenant_context(tenant):
        return list(Ticket.objects.values_list("subject", flat=True))


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


# --- Mailgun: HMAC-SHA256(timestamp + token) with the webhook signing key ------------------


def _mailgun(key: str, raw: bytes, *, age: int = 0, sign_with: str | None = None) -> dict[str, str]:
    timestamp, token = str(int(time.time()) - age), uuid.uuid4().hex
    signature = hmac.new(
        (sign_with or key).encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "body-mime": raw.decode(),
        "recipient": "support@acme.test",
        "sender": "pat@customer.test",
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
    }


def test_mailgun_signed_mail_becomes_a_ticket_once(client: Client, tenant_a: Tenant) -> None:
    box = _box(tenant_a, "mailgun", "mg-signing-key")
    raw = mail(subject="Via Mailgun", message_id="<mg1@customer.test>")
    first = client.post(box.esp_webhook_path, _mailgun("mg-signing-key", raw))
    assert first.status_code == 200, first.content
    assert first.json()["imported"][0]["outcome"] == "created"
    again = client.post(box.esp_webhook_path, _mailgun("mg-signing-key", raw))  # a retry
    assert again.json()["imported"][0]["duplicate"] is True
    assert _tickets(tenant_a) == ["Via Mailgun"]
    with tenant_context(tenant_a):
        assert Event.objects.get(type="email.received").payload["via"] == "esp:mailgun"


def test_mailgun_wrong_or_replayed_signature_is_refused(client: Client, tenant_a: Tenant) -> None:
    box = _box(tenant_a, "mailgun", "mg-signing-key")
    raw = mail(subject="Forged")
    forged = client.post(box.esp_webhook_path, _mailgun("mg-signing-key", raw, sign_with="x"))
    assert forged.status_code == 403 and forged["Content-Type"] == "application/problem+json"
    replayed = client.post(box.esp_webhook_path, _mailgun("mg-signing-key", raw, age=3600))
    assert replayed.status_code == 403 and "too old" in replayed.json()["detail"]
    assert _tickets(tenant_a) == []


def test_an_unknown_webhook_url_is_404(client: Client, tenant_a: Tenant) -> None:
    box = _box(tenant_a, "mailgun", "k")
    assert client.post("/email/inbound/mailgun/nope/", {}).status_code == 404
    wrong_provider = box.esp_webhook_path.replace("mailgun", "postmark")
    assert client.post(wrong_provider, {}).status_code == 404
    assert client.get(box.esp_webhook_path).status_code == 405


# --- SendGrid Inbound Parse: ECDSA P-256 over timestamp + body --------------------------------


@pytest.fixture
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _public_b64(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def _sendgrid_post(
    client: Client, path: str, key: ec.EllipticCurvePrivateKey, raw: bytes, *, tamper: bool = False
) -> Any:
    body = encode_multipart(
        BOUNDARY,
        {
            "email": raw.decode(),
            "envelope": json.dumps({"to": ["support@acme.test"], "from": "pat@customer.test"}),
            "charsets": json.dumps({"email": "utf-8"}),
        },
    )
    timestamp = str(int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    if tamper:
        body = body.replace(b"Printer", b"Pr1nter")
    return client.generic(
        "POST",
        path,
        body,
        content_type=MULTIPART_CONTENT,
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=base64.b64encode(signature).decode(),
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp,
    )


def test_sendgrid_signed_mail_is_imported_and_a_changed_body_refused(
    client: Client, tenant_a: Tenant, sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    box = _box(tenant_a, "sendgrid", _public_b64(sendgrid_key))
    raw = mail(subject="Printer via SendGrid")
    tampered = _sendgrid_post(client, box.esp_webhook_path, sendgrid_key, raw, tamper=True)
    assert tampered.status_code == 403
    ok = _sendgrid_post(client, box.esp_webhook_path, sendgrid_key, raw)
    assert ok.status_code == 200, ok.content
    assert _tickets(tenant_a) == ["Printer via SendGrid"]


# --- Postmark: no signature; basic auth of the URL --------------------------------------------


def test_postmark_needs_its_basic_auth(client: Client, tenant_a: Tenant) -> None:
    box = _box(tenant_a, "postmark", "postmark:pw-123")
    raw = mail(subject="Via Postmark", cc="kim@customer.test")
    payload = {
        "FromFull": {"Email": "pat@customer.test", "Name": "Pat Doe"},
        "ToFull": [{"Email": "support@acme.test", "Name": ""}],
        "Subject": "Via Postmark",
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "RawEmail": raw.decode(),
        "Headers": [],
    }
    body = json.dumps(payload)
    refused = client.post(
        box.esp_webhook_path,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=_basic("postmark:wrong"),
    )
    assert refused.status_code == 403
    ok = client.post(
        box.esp_webhook_path,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=_basic("postmark:pw-123"),
    )
    assert ok.status_code == 200, ok.content
    assert _tickets(tenant_a) == ["Via Postmark"]


# --- Amazon SES through SNS: RSA signature with the certificate SNS names ---------------------

SNS_CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"


@pytest.fixture
def sns_key() -> Iterator[rsa.RSAPrivateKey]:
    """A key and certificate standing in for Amazon's (the test cannot download theirs): the
    certificate is what SNS_CERTIFICATES would hold after fetching SNS_CERT_URL."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(tz=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    esp.SNS_CERTIFICATES[SNS_CERT_URL] = cert
    yield key
    esp.SNS_CERTIFICATES.pop(SNS_CERT_URL, None)


def _sns(key: rsa.RSAPrivateKey, raw: bytes, *, version: str = "2") -> dict[str, str]:
    ses_event = {
        "notificationType": "Received",
        "mail": {
            "source": "pat@customer.test",
            "messageId": "ses-1",
            "timestamp": "2026-11-30T07:00:00.000Z",
        },
        "receipt": {
            "recipients": ["support@acme.test"],
            "spamVerdict": {"status": "PASS"},
            "action": {"type": "SNS", "encoding": "BASE64"},
        },
        "content": base64.b64encode(raw).decode(),
    }
    message = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:inbound",
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": json.dumps(ses_event),
        "Timestamp": "2026-11-30T07:00:00.000Z",
        "SignatureVersion": version,
        "SigningCertURL": SNS_CERT_URL,
    }
    fields = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    text = "".join(f"{name}\n{message[name]}\n" for name in fields)
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    message["Signature"] = base64.b64encode(
        key.sign(text.encode(), padding.PKCS1v15(), algorithm)
    ).decode()
    return message


def _post_sns(client: Client, path: str, message: dict[str, str], auth: str | None) -> Any:
    extra: dict[str, Any] = {"HTTP_AUTHORIZATION": _basic(auth)} if auth else {}
    return client.post(
        path,
        json.dumps(message),
        content_type="text/plain; charset=UTF-8",
        HTTP_X_AMZ_SNS_MESSAGE_TYPE=message["Type"],
        HTTP_X_AMZ_SNS_MESSAGE_ID=message["MessageId"],
        **extra,
    )


def test_ses_through_sns_checks_the_signature_and_the_auth(
    client: Client, tenant_a: Tenant, sns_key: rsa.RSAPrivateKey
) -> None:
    box = _box(tenant_a, "ses", "sns:pw-456")
    raw = mail(subject="Via SES")
    challenge = _post_sns(client, box.esp_webhook_path, _sns(sns_key, raw), None)
    assert challenge.status_code == 401 and "Basic" in challenge["WWW-Authenticate"]
    forged = _sns(sns_key, raw)
    forged["Message"] = forged["Message"].replace("pat@", "eve@")
    assert _post_sns(client, box.esp_webhook_path, forged, "sns:pw-456").status_code == 403
    elsewhere = _sns(sns_key, raw)
    elsewhere["SigningCertURL"] = "https://evil.example/cert.pem"
    assert _post_sns(client, box.esp_webhook_path, elsewhere, "sns:pw-456").status_code == 403
    ok = _post_sns(client, box.esp_webhook_path, _sns(sns_key, raw, version="1"), "sns:pw-456")
    assert ok.status_code == 200, ok.content
    assert _tickets(tenant_a) == ["Via SES"]


def test_unimportable_mail_is_a_clear_422_logged_on_the_inbox(
    client: Client, tenant_a: Tenant
) -> None:
    box = _box(tenant_a, "mailgun", "k")
    raw = b"Subject: no sender at all\r\n\r\nHello\r\n"
    refused = client.post(box.esp_webhook_path, _mailgun("k", raw))
    assert refused.status_code == 422
    with tenant_context(tenant_a):
        event = Event.objects.get(type="email.rejected")
    assert event.payload["via"] == "esp:mailgun" and _tickets(tenant_a) == []


def test_a_50_mb_mail_is_refused_before_it_is_read(client: Client, tenant_a: Tenant) -> None:
    box = _box(tenant_a, "mailgun", "k")
    lines = b"A line of a very long mail, repeated to fifty megabytes.\r\n" * 900_000
    raw = mail(subject="Huge") + lines
    assert len(raw) > 50_000_000
    refused = client.post(box.esp_webhook_path, _mailgun("k", raw))
    assert refused.status_code == 413
    assert _tickets(tenant_a) == []


# --- Sending through a provider's API (EMAIL_BACKEND = anymail's Mailgun backend) -------------


class _MailgunApi:
    """A local HTTP server that answers like Mailgun's send API and keeps what it got."""

    def __init__(self, port: int) -> None:
        import http.server
        import socketserver
        import threading

        received = self.received = []  # type: list[bytes]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers["Content-Length"])))
                body = b'{"id": "<20261130.1@mg.acme.test>", "message": "Queued. Thank you."}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.port = port
        self.handler = Handler
        self.server: socketserver.TCPServer | None = None
        self.threading = threading
        self.socketserver = socketserver

    def start(self) -> None:
        """Listen only from now on: before, a connection is refused (nothing was sent)."""
        self.server = self.socketserver.TCPServer(("127.0.0.1", self.port), self.handler)
        self.threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def test_replies_go_out_through_the_providers_api_once_also_after_it_was_down(
    tenant_a: Tenant, settings: Any
) -> None:
    from autocrm.inboxes.outbound import outbound_send
    from autocrm.inboxes.tasks import SEND
    from autocrm.inboxes.tests.test_outbound import _reply, _state
    from autocrm.testing.smtp import free_port as _free_port

    api = _MailgunApi(_free_port())
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {
        "MAILGUN_API_KEY": "key-test",
        "MAILGUN_API_URL": f"http://127.0.0.1:{api.port}/v3",
    }
    box = inbox(tenant_a)
    _, outbound = _reply(tenant_a, box)
    # The API is not listening yet: deferred, nothing sent.
    assert outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk) == "deferred"
    api.start()
    try:
        with tenant_context(tenant_a):
            type(outbound).objects.filter(pk=outbound.pk).update(next_attempt_at=None)
        assert outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk) == "sent"
        assert outbound_send(tenant=tenant_a, actor=SEND, outbound_id=outbound.pk) is None
    finally:
        api.stop()
    assert _state(tenant_a, outbound) == ("sent", "sent")
    assert len(api.received) == 1
    from urllib.parse import parse_qs

    form = parse_qs(api.received[0].decode())
    assert form["h:Message-Id"] == [outbound.rfc_message_id]  # ours, so replies thread back
    assert form["to"] == ["pat@customer.test"] and "[#" in form["subject"][0]
