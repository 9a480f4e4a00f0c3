"""QR login: a browser shows a QR code, a phone that is signed in approves, the browser is in.

The flow (docs/security.md "Sign in with your phone"):

1. :func:`qr_login_start` for the waiting browser: a row with a one-time ``token`` (in the QR
   code, stored hashed), a ``public_id`` (in the browser's status polls) and a browser secret
   (kept in that browser's session, stored hashed). It expires after ``QR_LOGIN_TTL_SECONDS``
   (at most two minutes).
2. The phone opens the QR code's address; :func:`qr_login_for_approval` finds the request
   and the page shows which browser and place ask. :func:`qr_login_approve` (or
   :func:`qr_login_deny`) records the signed-in user's answer; a user with two-factor
   authentication must enter a fresh code on the phone first (the view checks it with
   allauth's form, and says so here through ``mfa_verified``).
3. The waiting browser polls; :func:`qr_login_collect` hands out the approving user once,
   only to the browser holding the secret, and only before the expiry.

Every approval, refusal and completed sign-in appends an event in each tenant where the
approving user is a member, so tenant admins see it in their audit log beside the row here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from autocrm.accounts import events
from autocrm.accounts.models import QrLogin, User
from autocrm.accounts.selectors import user_memberships
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.tenancy import tenant_context, user_context

# The bound: a code on a screen is only worth stealing for two minutes at most.
MAX_TTL_SECONDS = 120

QrStatus = Literal["pending", "approved", "denied", "expired", "used"]


class QrLoginError(Exception):
    """The request cannot be approved or collected; ``message`` is for the person."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class QrLoginStarted:
    qr_login: QrLogin
    token: str  # goes into the QR code, nowhere else
    browser_secret: str  # goes into the waiting browser's session, nowhere else


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def ttl() -> dt.timedelta:
    seconds = min(int(getattr(settings, "QR_LOGIN_TTL_SECONDS", MAX_TTL_SECONDS)), MAX_TTL_SECONDS)
    return dt.timedelta(seconds=max(seconds, 10))


def status_of(qr_login: QrLogin, *, now: dt.datetime | None = None) -> QrStatus:
    now = now or timezone.now()
    if qr_login.consumed_at is not None:
        return "used"
    if qr_login.denied_at is not None:
        return "denied"
    if qr_login.expires_at <= now:
        return "expired"
    if qr_login.approved_at is not None:
        return "approved"
    return "pending"


def qr_login_start(
    *,
    ip: str | None,
    user_agent: str,
    time_zone: str = "",
    language: str = "",
    next_url: str = "",
) -> QrLoginStarted:
    """A new request for the browser described by the arguments (what the approver sees)."""
    token = secrets.token_urlsafe(32)
    browser_secret = secrets.token_urlsafe(32)
    now = timezone.now()
    qr_login = QrLogin.objects.create(
        public_id=secrets.token_urlsafe(16),
        token_hash=_digest(token),
        browser_hash=_digest(browser_secret),
        ip=ip or None,
        user_agent=user_agent[:400],
        time_zone=time_zone.strip()[:64],
        language=language.strip()[:64],
        next_url=next_url[:500],
        created_at=now,
        expires_at=now + ttl(),
    )
    return QrLoginStarted(qr_login=qr_login, token=token, browser_secret=browser_secret)


def qr_login_for_approval(*, token: str) -> QrLogin | None:
    """The request a scanned code names (any state; None for a code that never existed)."""
    if not token or len(token) > 100:
        return None
    return QrLogin.objects.filter(token_hash=_digest(token)).first()


def qr_login_for_browser(*, public_id: str, browser_secret: str) -> QrLogin | None:
    """The request ``public_id`` if this browser started it (its session holds the secret)."""
    row = QrLogin.objects.filter(public_id=public_id).first()
    if row is None or not hmac.compare_digest(row.browser_hash, _digest(browser_secret)):
        return None
    return row


def _audit(user: User, *, type_: str, qr_login: QrLogin, payload: dict[str, object]) -> None:
    """The event in every tenant where ``user`` is a member (the sign-in opens them all)."""
    with user_context(user.pk):
        memberships = list(user_memberships(user_id=user.pk))
    for membership in memberships:
        tenant = membership.tenant
        with tenant_context(tenant, user_id=user.pk):
            event_append(
                tenant=tenant,
                type=type_,
                subject=("accounts.qrlogin", qr_login.pk),
                actor=Actor.for_user(user, role=membership.role, tenant_id=tenant.pk),
                payload={
                    "user_id": user.pk,
                    "ip": qr_login.ip,
                    "user_agent": qr_login.user_agent,
                    "time_zone": qr_login.time_zone,
                    **payload,
                },
            )


def _answerable(token: str) -> QrLogin:
    """The request, locked, if it still waits for an answer; else a QrLoginError."""
    row = (
        QrLogin.objects.select_for_update().filter(token_hash=_digest(token)).first()
        if token and len(token) <= 100
        else None
    )
    if row is None:
        raise QrLoginError("This sign-in code is not valid.", code="unknown")
    state = status_of(row)
    if state == "expired":
        raise QrLoginError(
            "This sign-in code has expired. Show a new code on the other browser.", code="expired"
        )
    if state != "pending":
        raise QrLoginError("This sign-in code was already used.", code="used")
    return row


def qr_login_approve(
    *, token: str, user: User, mfa_verified: bool, approver_ip: str | None
) -> QrLogin:
    """``user`` (signed in on the phone) lets the waiting browser in as themselves."""
    from allauth.mfa.utils import is_mfa_enabled

    if not user.is_active:
        raise QrLoginError("This account is disabled.", code="inactive")
    mfa = is_mfa_enabled(user)
    if mfa and not mfa_verified:
        raise QrLoginError(
            "Enter a code from your authenticator app to approve.", code="mfa_required"
        )
    with transaction.atomic():
        row = _answerable(token)
        row.approved_by = user
        row.approved_at = timezone.now()
        row.approved_with_mfa = mfa
        row.approver_ip = approver_ip or None
        row.save(update_fields=["approved_by", "approved_at", "approved_with_mfa", "approver_ip"])
        _audit(
            user,
            type_=events.QR_LOGIN_APPROVED,
            qr_login=row,
            payload={"approver_ip": row.approver_ip, "mfa": mfa},
        )
    return row


def qr_login_deny(*, token: str, user: User) -> QrLogin:
    """``user`` does not recognise the waiting browser: the code is spent."""
    with transaction.atomic():
        row = _answerable(token)
        row.denied_at = timezone.now()
        row.save(update_fields=["denied_at"])
        _audit(user, type_=events.QR_LOGIN_DENIED, qr_login=row, payload={})
    return row


def qr_login_collect(
    *, public_id: str, browser_secret: str
) -> tuple[QrStatus, User | None, QrLogin]:
    """The waiting browser asks how its request stands. Approved: returns the user to sign
    in, exactly once (a conditional update, so two polls racing cannot both win)."""
    row = qr_login_for_browser(public_id=public_id, browser_secret=browser_secret)
    if row is None:
        raise QrLoginError("This sign-in code belongs to another browser.", code="unknown")
    state = status_of(row)
    if state != "approved":
        return state, None, row
    now = timezone.now()
    with transaction.atomic():
        won = QrLogin.objects.filter(
            pk=row.pk,
            consumed_at__isnull=True,
            denied_at__isnull=True,
            approved_at__isnull=False,
            expires_at__gt=now,
        ).update(consumed_at=now)
        if not won:
            row.refresh_from_db()
            return status_of(row), None, row
        user = User.objects.get(pk=row.approved_by_id or 0)
        if not user.is_active:
            transaction.set_rollback(True)
            return "denied", None, row
        _audit(user, type_=events.QR_LOGIN_SIGNED_IN, qr_login=row, payload={})
    return "used", user, row


def qr_login_purge(*, older_than: dt.timedelta) -> int:
    """Forget requests older than ``older_than`` (the events keep the audit)."""
    deleted, _ = QrLogin.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
