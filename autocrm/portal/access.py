"""Who may open a help-centre page. Help pages are public (anyone may read the knowledge
base and sign up); what a signed-in person sees beyond that depends on their membership,
which TenantMiddleware has resolved into ``request.membership``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from autocrm.accounts.access import TenantRequest

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
