"""QR login pages: the code on the login page, its status polls, and the approval on the
phone (services in autocrm.accounts.qr_login)."""

from __future__ import annotations

from typing import Any

import segno
from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.base.forms import ReauthenticateForm
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from autocrm.accounts.access import signed_in_user
from autocrm.accounts.qr_login import (
    QrLoginError,
    qr_login_approve,
    qr_login_collect,
    qr_login_deny,
    qr_login_for_approval,
    qr_login_start,
    status_of,
)
from autocrm.core.ratelimit import RateLimitState, rate_limit_hit

# The waiting browser's requests: public id -> browser secret, in its session. A few, so a
# second tab with the login page does not cut off the first one.
SESSION_KEY = "qr_login_requests"
REMEMBERED = 5


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _too_many(state: RateLimitState) -> JsonResponse:
    return JsonResponse(
        {"status": "rate_limited", "detail": "Too many attempts; try again in a minute."},
        status=429,
        headers=state.headers(),
    )


def _safe_next(request: HttpRequest, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


@never_cache
@require_POST
def qr_new(request: HttpRequest) -> HttpResponse:
    """A fresh code for the login page (asked for by its script, so crawlers make none)."""
    if request.user.is_authenticated:
        return JsonResponse({"status": "signed_in", "redirect": resolve_url("home")})
    limit = rate_limit_hit(
        f"qr-login-start:{_client_ip(request)}", limit=settings.QR_LOGIN_STARTS_PER_MINUTE
    )
    if limit.exceeded:
        return _too_many(limit)
    started = qr_login_start(
        ip=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        time_zone=request.POST.get("time_zone", ""),
        language=request.META.get("HTTP_ACCEPT_LANGUAGE", "").split(",")[0],
        next_url=_safe_next(request, request.POST.get("next", "")),
    )
    remembered: dict[str, str] = dict(request.session.get(SESSION_KEY, {}))
    remembered[started.qr_login.public_id] = started.browser_secret
    request.session[SESSION_KEY] = dict(list(remembered.items())[-REMEMBERED:])
    approve_url = request.build_absolute_uri(reverse("qr_login_approve", args=[started.token]))
    qr = segno.make(approve_url, error="m")
    return JsonResponse(
        {
            "status": "pending",
            "id": started.qr_login.public_id,
            "qr": qr.png_data_uri(scale=5, border=2),
            "status_url": reverse("qr_login_status", args=[started.qr_login.public_id]),
            "expires_in": int((started.qr_login.expires_at - timezone.now()).total_seconds()),
        }
    )


@never_cache
@require_POST
def qr_status(request: HttpRequest, public_id: str) -> HttpResponse:
    """The waiting browser polls its request; once approved, this response signs it in."""
    limit = rate_limit_hit(
        f"qr-login-poll:{_client_ip(request)}", limit=settings.QR_LOGIN_POLLS_PER_MINUTE
    )
    if limit.exceeded:
        return _too_many(limit)
    secret = dict(request.session.get(SESSION_KEY, {})).get(public_id, "")
    try:
        state, user, row = qr_login_collect(public_id=public_id, browser_secret=secret)
    except QrLoginError as exc:
        return JsonResponse({"status": exc.code, "detail": exc.message}, status=404)
    if user is None:
        return JsonResponse({"status": state})
    get_adapter(request).login(request, user)
    # Recorded like allauth's own methods, so "how did this session sign in" stays answerable.
    record_authentication(request, user, method="qr_login", qr_login=row.public_id)
    request.session.pop(SESSION_KEY, None)
    redirect_to = row.next_url or resolve_url(settings.LOGIN_REDIRECT_URL)
    return JsonResponse({"status": "signed_in", "redirect": redirect_to})


def _describe_browser(user_agent: str) -> str:
    """'Chrome 130 on Windows 10', from the User-Agent the waiting browser sent."""
    from ua_parser import parse

    parsed = parse(user_agent) if user_agent else None
    if parsed is None or parsed.user_agent is None:
        return "An unknown browser"
    browser = " ".join(p for p in (parsed.user_agent.family, parsed.user_agent.major) if p)
    if parsed.os is not None and parsed.os.family != "Other":
        system = " ".join(p for p in (parsed.os.family, parsed.os.major) if p)
        return f"{browser} on {system}"
    return browser


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def qr_approve(request: HttpRequest, token: str) -> HttpResponse:
    """The phone's page: who asks, then Approve or Deny (with a fresh code for 2FA users)."""
    user = signed_in_user(request)
    row = qr_login_for_approval(token=token)
    if row is None:
        return render(request, "account/qr_approve.html", {"invalid": True}, status=404)
    mfa = is_mfa_enabled(user)
    form: ReauthenticateForm | None = None
    error = ""
    outcome = ""
    status = 200
    if request.method == "POST":
        limit = rate_limit_hit(
            f"qr-login-approve:{user.pk}", limit=settings.QR_LOGIN_APPROVALS_PER_MINUTE
        )
        action = request.POST.get("action", "")
        try:
            if limit.exceeded:
                raise QrLoginError("Too many attempts; try again in a minute.", code="rate")
            if action == "deny":
                qr_login_deny(token=token, user=user)
                outcome = "denied"
            elif action == "approve":
                verified = False
                if mfa:
                    form = ReauthenticateForm(data=request.POST, user=user)
                    verified = form.is_valid()
                    if verified:
                        form.save()
                qr_login_approve(
                    token=token, user=user, mfa_verified=verified, approver_ip=_client_ip(request)
                )
                outcome = "approved"
            else:
                raise QrLoginError("Choose Approve or Deny.", code="action")
        except QrLoginError as exc:
            error = "" if exc.code == "mfa_required" and form is not None else exc.message
            status = 429 if exc.code == "rate" else 400
        row.refresh_from_db()
    if mfa and form is None:
        form = ReauthenticateForm(user=user)
    context: dict[str, Any] = {
        "qr_login": row,
        "state": status_of(row),
        "browser": _describe_browser(row.user_agent),
        "mfa": mfa,
        "form": form,
        "error": error,
        "outcome": outcome,
    }
    return render(request, "account/qr_approve.html", context, status=status)
