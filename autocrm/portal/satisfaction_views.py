"""Rating a solved request: from the e-mailed link (no sign-in needed: the signed link is
the permission) or from the request's page in the help centre."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from autocrm.core.actors import Actor
from autocrm.portal import requests as help_requests
from autocrm.portal import satisfaction
from autocrm.portal.access import HelpRequest, customer_page, help_page, member_actor
from autocrm.portal.forms import RatingForm


def _link_actor(survey: satisfaction.SatisfactionSurvey) -> Actor:
    """Who answers through an e-mailed link: the requester, named by their contact."""
    return Actor.system(f"csat-link:{survey.contact.email}")


@require_http_methods(["GET", "POST"])
@help_page
def rate(request: HelpRequest, token: str) -> HttpResponse:
    try:
        survey = satisfaction.survey_from_token(tenant=request.tenant, token=token)
    except satisfaction.SurveyLinkError as exc:
        return render(request, "help/rate_invalid.html", {"reason": str(exc)}, status=410)
    initial = {"rating": request.GET.get("rating")} if request.method == "GET" else None
    form = RatingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            satisfaction.survey_answer(
                tenant=request.tenant,
                actor=_link_actor(survey),
                survey=survey,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            return render(
                request, "help/rate_invalid.html", {"reason": exc.messages[0]}, status=410
            )
        return render(request, "help/rate_thanks.html", {"rating": form.cleaned_data["rating"]})
    return render(
        request,
        "help/rate.html",
        {"form": form, "ticket": survey.ticket},
        status=400 if form.errors else 200,
    )


@customer_page
@require_POST
def request_rate(request: HelpRequest, number: int) -> HttpResponse:
    actor = member_actor(request)
    detail = help_requests.request_get(tenant=request.tenant, actor=actor, number=number)
    if detail is None:
        raise Http404("No such request.")
    survey = satisfaction.survey_pending(tenant=request.tenant, actor=actor, ticket=detail.ticket)
    form = RatingForm(request.POST)
    if survey is None:
        messages.error(request, "This request has no open rating.")
    elif not form.is_valid():
        messages.error(request, "Choose good or bad.")
    else:
        try:
            satisfaction.survey_answer(
                tenant=request.tenant,
                actor=actor,
                survey=survey,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, "Thanks for your rating!")
    return redirect("portal:request", tenant_slug=request.tenant.slug, number=number)
