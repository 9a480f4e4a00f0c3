"""Tenant resolution and the request transaction: who is calling (API key, session) and in
which tenant, read from the accounts app's keys and memberships."""

from __future__ import annotations

import structlog
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from autocrm.accounts import selectors
from autocrm.accounts.models import Membership
from autocrm.accounts.services import api_key_mark_used
from autocrm.core.middleware import GetResponse
from autocrm.core.models import RESERVED_SLUGS, Tenant
from autocrm.core.problems import problem_response
from autocrm.core.ratelimit import (
    api_key_failure_bucket,
    api_key_failure_hit,
    rate_limit_blocked,
    rate_limited_problem,
)
from autocrm.core.tenancy import tenant_context, user_context

API_PREFIX = "/api/"
TENANT_HEADER = "HTTP_X_TENANT"


def _invalid_key(request: HttpRequest) -> HttpResponse:
    """401 for an unknown key, counted per client address; 429 past the limit."""
    state = api_key_failure_hit(request)
    if state.exceeded:
        return rate_limited_problem(state)
    return problem_response(
        401,
        detail="The API key is invalid or revoked.",
        type_="invalid-api-key",
        headers={"WWW-Authenticate": 'Bearer realm="autocrm"', **state.headers()},
    )


class TenantMiddleware:
    """Resolve the tenant, then run the rest of the request in its transaction.

    Pages: ``/<tenant-slug>/...``. API: the tenant of the Bearer API key, or for a browser
    session the ``X-Tenant`` header (slug) or the user's only staff membership. Sets
    ``request.tenant``, ``request.membership`` and ``request.api_key``. The transaction rolls
    back when the response is a server error, like ATOMIC_REQUESTS."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.api_key = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None

        tenant: Tenant | None = None
        membership: Membership | None = None
        if request.path.startswith(API_PREFIX):
            auth = request.META.get("HTTP_AUTHORIZATION", "")
            if auth[:7].lower() == "bearer ":
                # An address that keeps sending unknown keys is guessing: refused unread.
                blocked = rate_limit_blocked(api_key_failure_bucket(request))
                if blocked is not None:
                    return rate_limited_problem(blocked)
                found = selectors.api_key_authenticate(raw_key=auth[7:].strip())
                if found is None:
                    return _invalid_key(request)
                tenant, request.api_key = found  # type: ignore[attr-defined]
                # A key acts for its tenant, not for the browser user; a personal token
                # acts as its member (whose membership is read below, in the tenant).
                user_id = request.api_key.user_id  # type: ignore[attr-defined]
            elif user is not None and user_id is not None:
                slug = request.META.get(TENANT_HEADER, "")
                membership = selectors.membership_for_session(user=user, slug=slug)
                if membership is not None:
                    tenant = membership.tenant
                elif slug and slug not in RESERVED_SLUGS:
                    # Not staff there: maybe a customer. Their membership is read in the
                    # tenant's context below; without one the API refuses the call.
                    tenant = Tenant.objects.filter(slug=slug).first()
        else:
            slug, _, rest = request.path.lstrip("/").partition("/")
            if slug and slug not in RESERVED_SLUGS:
                if user is not None and user_id is not None and not rest.startswith("help/"):
                    # A staff page: the member and the tenant in one prepared statement (as
                    # for the API with a session) instead of two compiled queries.
                    membership = selectors.membership_for_session(user=user, slug=slug)
                    if membership is not None:
                        tenant = membership.tenant
                if tenant is None:  # anonymous, a customer, or not a member here
                    tenant = Tenant.objects.filter(slug=slug).first()

        if tenant is None:
            if user_id is None:
                return self.get_response(request)
            with user_context(user_id):
                return self._respond(request)

        with tenant_context(tenant, user_id=user_id):
            request.tenant = tenant  # type: ignore[attr-defined]
            structlog.contextvars.bind_contextvars(tenant=tenant.slug)
            if membership is not None:  # found with the tenant, as staff
                request.membership = membership  # type: ignore[attr-defined]
            elif user_id is not None:
                request.membership = selectors.membership_get(  # type: ignore[attr-defined]
                    tenant=tenant, user_id=user_id
                )
            if request.api_key is not None:  # type: ignore[attr-defined]
                api_key_mark_used(tenant=tenant, api_key=request.api_key)  # type: ignore[attr-defined]
            return self._respond(request)

    def _respond(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 500:
            transaction.set_rollback(True)
        return response
