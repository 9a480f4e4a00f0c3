"""Who may open a help-centre page. Help pages are public (anyone may read the knowledge
base and sign up); what a signed-in person sees beyond that depends on their membership,
which TenantMiddleware has resolved into ``request.membership``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse

from autocrm.accounts.access import TenantRequest, signed_in_user
from autocrm.core.actors import Actor

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


class HelpRequest(TenantRequest):
    """A request to a help page: ``tenant`` is set; ``membership`` may be None."""


def help_page(view: View) -> View:
    """A public page of the URL's tenant's help centre (404 for an unknown tenant)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request, "tenant", None) is None:
            raise Http404("No such help centre.")
        kwargs.pop("tenant_slug", None)
        return view(request, *args, **kwargs)

    # Read by the cross-tenant test: a public page may answer anyone, but must not show
    # another tenant's private rows.
    wrapper.public_page = True  # type: ignore[attr-defined]
    return cast(View, wrapper)


def customer_page(view: View) -> View:
    """A help page for a signed-in member of the URL's tenant (any role: staff may look at
    the customer side too). Anonymous visitors go to the help centre's own sign-in page;
    people who are not members get a 404 like every other tenant page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            raise Http404("No such help centre.")
        if not request.user.is_authenticated:
            login = reverse("portal:login", args=[tenant.slug])
            return redirect_to_login(request.get_full_path(), login_url=login)
        if getattr(request, "membership", None) is None:
            raise Http404("No such help centre.")
        kwargs.pop("tenant_slug", None)
        return view(request, *args, **kwargs)

    return cast(View, wrapper)


def member_actor(request: HelpRequest) -> Actor:
    """The signed-in member acting with their role in the URL's tenant (customer pages)."""
    return Actor.for_user(
        signed_in_user(request), role=request.membership.role, tenant_id=request.tenant.pk
    )
