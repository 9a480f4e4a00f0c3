"""Inbound webhooks of email service providers (Mailgun, SendGrid, Postmark, Amazon SES),
parsed by django-anymail and fed to the one import pipeline.

Each inbox with a provider has a webhook URL ``/email/inbound/<provider>/<token>/``: the
random token names the inbox (and its tenant), the inbox's secret checks the request the way
that provider signs it:

- Mailgun: HMAC-SHA256 of timestamp + token with the webhook signing key (anymail), and a
  timestamp within ``MAX_AGE`` (a captured request cannot be replayed later);
- SendGrid: the ECDSA signature of its Inbound Parse (``X-Twilio-Email-Event-Webhook-
  Signature`` over timestamp + body) with the public verification key;
- Postmark: it does not sign; HTTP basic auth with the ``user:password`` put in its URL;
- Amazon SES: the SNS message signature (RSA, SignatureVersion 1 or 2) with the certificate
  at its ``SigningCertURL`` on an amazonaws.com host, and basic auth ``user:password``.

anymail's views parse; instead of its ``inbound`` signal (no signals for domain logic here)
our subclasses hand each message to :func:`email_import` in the tenant's context.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import urllib.request
import warnings
from typing import Any
from urllib.parse import urlsplit

import structlog
from anymail.exceptions import (
    AnymailError,
    AnymailNotSupportedWarning,
    AnymailWebhookValidationFailure,
)
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse

from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.core.tenancy import system_context, tenant_context
from autocrm.inboxes import events
from autocrm.inboxes.credentials import credential_decrypt
from autocrm.inboxes.inbound import IMPORT, email_import
from autocrm.inboxes.models import EspProvider, Inbox
from autocrm.inboxes.parsing import InvalidEmail

logger = structlog.get_logger(__name__)

MAX_AGE = dt.timedelta(minutes=10)  # Mailgun and SendGrid timestamps
SNS_CERT_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
# Certificates SNS signs with, by URL (they rotate rarely; a process fetches each once).
SNS_CERTIFICATES: dict[str, x509.Certificate] = {}


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {"type": f"about:blank#{title}", "title": title, "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )


class _Inbox:
    """What every provider view gets: the inbox it delivers to and how to import."""

    inbox: Inbox
    tenant: Tenant
    provider: str = ""

    def deliver(self, request: HttpRequest) -> HttpResponse:
        view: Any = self
        try:
            view.run_validators(request)
        except AnymailWebhookValidationFailure as exc:
            logger.warning("esp.refused", inbox=self.inbox.pk, provider=self.provider, why=str(exc))
            return _problem(403, "signature", f"The request is not signed for this inbox: {exc}")
        try:
            parsed = view.parse_events(request)
        except (AnymailError, KeyError, ValueError) as exc:
            return _problem(400, "payload", f"The {self.provider} payload cannot be read: {exc}")
        results = []
        for event in parsed:
            raw = event.message.as_bytes() if event.message is not None else b""
            try:
                with tenant_context(self.tenant):
                    result = email_import(
                        tenant=self.tenant, inbox=self.inbox, raw=raw, via=f"esp:{self.provider}"
                    )
            except (InvalidEmail, ValidationError) as exc:
                reason = str(exc) if isinstance(exc, InvalidEmail) else "; ".join(exc.messages)
                with tenant_context(self.tenant):
                    event_append(
                        tenant=self.tenant,
                        type=events.EMAIL_REJECTED,
                        subject=self.inbox,
                        actor=IMPORT,
                        payload={
                            "inbox_id": self.inbox.pk,
                            "via": f"esp:{self.provider}",
                            "reason": reason[:500],
                        },
                    )
                return _problem(422, "not-importable", reason)
            results.append(
                {
                    "ticket_id": result.ticket_id,
                    "message_id": result.message_id,
                    "outcome": result.outcome,
                    "duplicate": result.duplicate,
                }
            )
        return JsonResponse({"imported": results})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.deliver(request)


class MailgunInbound(_Inbox, MailgunInboundWebhookView):
    provider = "mailgun"

    def validate_request(self, request: HttpRequest) -> None:
        stamp = request.POST.get("timestamp", "")
        if not stamp.isdigit():
            raise AnymailWebhookValidationFailure("no timestamp")
        sent = dt.datetime.fromtimestamp(int(stamp), tz=dt.UTC)
        if abs(dt.datetime.now(tz=dt.UTC) - sent) > MAX_AGE:
            raise AnymailWebhookValidationFailure("the timestamp is too old (a replay?)")


class SendGridInbound(_Inbox, SendGridInboundWebhookView):
    provider = "sendgrid"
    verification_key = ""  # base64 DER of the public key, as SendGrid shows it

    def validate_request(self, request: HttpRequest) -> None:
        signature = request.headers.get("X-Twilio-Email-Event-Webhook-Signature", "")
        stamp = request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp", "")
        if not signature or not stamp.isdigit():
            raise AnymailWebhookValidationFailure("no signature")
        if abs(dt.datetime.now(tz=dt.UTC).timestamp() - int(stamp)) > MAX_AGE.total_seconds():
            raise AnymailWebhookValidationFailure("the timestamp is too old (a replay?)")
        try:
            key = serialization.load_der_public_key(base64.b64decode(self.verification_key))
            assert isinstance(key, ec.EllipticCurvePublicKey)
            key.verify(
                base64.b64decode(signature),
                stamp.encode() + request.body,
                ec.ECDSA(hashes.SHA256()),
            )
        except (InvalidSignature, ValueError, AssertionError) as exc:
            raise AnymailWebhookValidationFailure("wrong signature") from exc


class PostmarkInbound(_Inbox, PostmarkInboundWebhookView):
    provider = "postmark"


def _sns_certificate(url: str) -> x509.Certificate:
    parts = urlsplit(url)
    if parts.scheme != "https" or not SNS_CERT_HOST.match(parts.hostname or ""):
        raise AnymailWebhookValidationFailure(f"SigningCertURL {url!r} is not Amazon SNS's")
    if url not in SNS_CERTIFICATES:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - https, checked
            SNS_CERTIFICATES[url] = x509.load_pem_x509_certificate(response.read())
    return SNS_CERTIFICATES[url]


_SNS_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SNS_FIELDS["UnsubscribeConfirmation"] = _SNS_FIELDS["SubscriptionConfirmation"]


def sns_verify(message: dict[str, Any]) -> None:
    """Amazon's documented check of an SNS message signature; raises when it fails."""
    fields = _SNS_FIELDS.get(str(message.get("Type")))
    if fields is None:
        raise AnymailWebhookValidationFailure("unknown SNS message type")
    text = "".join(f"{name}\n{message[name]}\n" for name in fields if name in message)
    algorithm: hashes.HashAlgorithm = (
        hashes.SHA1() if str(message.get("SignatureVersion")) == "1" else hashes.SHA256()  # noqa: S303 - SNS v1 is SHA1
    )
    key = _sns_certificate(str(message.get("SigningCertURL", ""))).public_key()
    try:
        assert isinstance(key, rsa.RSAPublicKey)
        key.verify(
            base64.b64decode(str(message.get("Signature", ""))),
            text.encode(),
            padding.PKCS1v15(),
            algorithm,
        )
    except (InvalidSignature, ValueError, AssertionError) as exc:
        raise AnymailWebhookValidationFailure("wrong SNS signature") from exc


class SesInbound(_Inbox, AmazonSESInboundWebhookView):
    provider = "ses"

    def deliver(self, request: HttpRequest) -> HttpResponse:
        if not request.headers.get("Authorization"):
            # SNS sends the credentials of its URL only after a 401 challenge.
            response = HttpResponse(status=401)
            response["WWW-Authenticate"] = 'Basic realm="AutoCRM inbound email"'
            return response
        return super().deliver(request)

    def validate_request(self, request: HttpRequest) -> None:
        sns_verify(self._parse_sns_message(request))


VIEWS: dict[str, type[_Inbox]] = {
    EspProvider.MAILGUN: MailgunInbound,
    EspProvider.SENDGRID: SendGridInbound,
    EspProvider.POSTMARK: PostmarkInbound,
    EspProvider.SES: SesInbound,
}


def _view_options(provider: str, secret: str) -> dict[str, Any]:
    if provider == EspProvider.MAILGUN:
        return {"webhook_signing_key": secret, "webhook_secret": []}
    if provider == EspProvider.SENDGRID:
        return {"verification_key": secret, "webhook_secret": []}
    # Postmark and SES: "user:password" in the webhook URL (HTTP basic auth).
    return {"webhook_secret": [secret]}


def esp_inbox(provider: str, token: str) -> tuple[Tenant, Inbox] | None:
    """The inbox a webhook URL names (the token is unique across tenants)."""
    with system_context(f"esp_inbound: find the inbox of a {provider} webhook") as db:
        row = (
            Inbox.objects.using(db)
            .filter(esp_provider=provider, esp_token=token)
            .exclude(esp_token="")
            .values_list("tenant_id", "pk")
            .first()
        )
    if row is None:
        return None
    tenant = Tenant.objects.get(pk=row[0])
    with tenant_context(tenant):
        return tenant, Inbox.objects.get(tenant=tenant, pk=row[1])


def esp_inbound(request: HttpRequest, provider: str, token: str) -> HttpResponse:
    """The webhook view (csrf-exempt: a provider posts it, signed)."""
    if request.method == "HEAD":
        return HttpResponse()  # some providers check the URL once when it is set
    if request.method != "POST":
        return _problem(405, "method", "Providers POST to this URL.")
    found = esp_inbox(provider, token) if provider in VIEWS else None
    if found is None:
        return _problem(404, "not-found", "No inbox has this webhook URL.")
    tenant, inbox = found
    if not inbox.esp_secret:
        return _problem(403, "signature", "The inbox has no secret to check this request with.")
    with warnings.catch_warnings():
        # anymail warns that it no longer tests SendGrid, on every view made: known (ADR 0013).
        warnings.simplefilter("ignore", AnymailNotSupportedWarning)
        view = VIEWS[provider](**_view_options(provider, credential_decrypt(inbox.esp_secret)))
    view.inbox, view.tenant = inbox, tenant
    return view.deliver(request)
