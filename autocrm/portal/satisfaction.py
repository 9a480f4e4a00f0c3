"""Customer satisfaction (CSAT): when a ticket is solved its requester is asked, by e-mail
and in the help centre, whether the help was good or bad, with an optional comment.

The e-mail links carry a signed, expiring token naming the survey and a random nonce (stored
hashed). A survey is answered once: a second use of its link, an expired link or a forged one
each get a clear message and change nothing. The answer is appended as an event on the
ticket (``ticket.satisfaction_rated``), so it shows in the ticket's history and reaches
webhooks and analytics."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import urlize
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import linebreaks

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.inboxes.notification_templates import Rendered
from autocrm.portal import events
from autocrm.portal.branding import Branding
from autocrm.portal.customers import help_url
from autocrm.portal.models import Rating, SatisfactionSurvey
from autocrm.tickets import access
from autocrm.tickets.models import Status, Ticket

SALT = "autocrm.portal.csat"
SURVEY_TTL = dt.timedelta(days=14)
COMMENT_MAX = 2000


class SurveyLinkError(Exception):
    """Why a rating link cannot be used; the message is shown to the customer as is."""


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def survey_create(*, tenant: Tenant, actor: Actor, ticket: Ticket) -> SatisfactionSurvey | None:
    """Ask the requester of a just-solved ticket for a rating (None when the tenant does
    not ask, or this solve was asked about already). The mail is queued by the caller
    (autocrm.inboxes' send queue) and written by :func:`survey_mail` when it is sent."""
    if not tenant.setting("csat_enabled") or ticket.status != Status.SOLVED:
        return None
    if SatisfactionSurvey.objects.filter(
        tenant=tenant, ticket=ticket, created_at__gte=ticket.solved_at or timezone.now()
    ).exists():
        return None
    with transaction.atomic():
        return SatisfactionSurvey.objects.create(
            tenant=tenant,
            ticket=ticket,
            contact=ticket.requester,
            # No link works until the mail is written (survey_mail signs the one it sends).
            nonce_hash=_hash(secrets.token_urlsafe(18)),
            expires_at=timezone.now() + SURVEY_TTL,
        )


def survey_link(*, survey: SatisfactionSurvey) -> str:
    """A new signed token for the survey; the links made before stop working (each send
    attempt signs anew, so the mail that goes out carries the link that works)."""
    nonce = secrets.token_urlsafe(18)
    SatisfactionSurvey.objects.filter(tenant_id=survey.tenant_id, pk=survey.pk).update(
        nonce_hash=_hash(nonce)
    )
    survey.nonce_hash = _hash(nonce)
    return signing.dumps({"s": survey.pk, "n": nonce}, salt=SALT)


def survey_mail(tenant: Tenant, ticket: Ticket) -> Rendered:
    """The rating request mail of the ticket's latest survey, with fresh links (the send
    job of autocrm.inboxes calls this while it claims the mail)."""
    survey = (
        SatisfactionSurvey.objects.filter(tenant=tenant, ticket=ticket)
        .select_related("contact")
        .order_by("-created_at", "-pk")
        .first()
    )
    if survey is None:
        raise LookupError(f"Ticket {ticket.pk} has no satisfaction survey to mail.")
    path = reverse("portal:rate", args=[tenant.slug, survey_link(survey=survey)])
    context = {
        "name": Branding(tenant).name,
        "ticket": ticket,
        "good": help_url(tenant, f"{path}?rating=good"),
        "bad": help_url(tenant, f"{path}?rating=bad"),
        "contact": survey.contact,
    }
    text = render_to_string("help/email/csat.txt", context)
    return Rendered(
        subject=f"How did we do? [#{ticket.number}] {ticket.subject}"[:200],
        text=text,
        html=str(linebreaks(urlize(text, autoescape=True), autoescape=False)),
    )


def survey_from_token(*, tenant: Tenant, token: str) -> SatisfactionSurvey:
    """The unanswered, unexpired survey of a link, or SurveyLinkError saying why not."""
    try:
        data = signing.loads(token, salt=SALT, max_age=SURVEY_TTL)
    except signing.SignatureExpired as exc:
        raise SurveyLinkError("This rating link has expired.") from exc
    except signing.BadSignature as exc:
        raise SurveyLinkError("This rating link is not valid.") from exc
    survey = (
        SatisfactionSurvey.objects.filter(tenant=tenant, pk=data.get("s"))
        .select_related("ticket")
        .first()
    )
    if survey is None or not secrets.compare_digest(survey.nonce_hash, _hash(str(data.get("n")))):
        raise SurveyLinkError("This rating link is not valid.")
    _check_open(survey)
    return survey


def _check_open(survey: SatisfactionSurvey) -> None:
    if survey.rated_at is not None:
        raise SurveyLinkError("You rated this request already. Thank you!")
    if survey.expires_at <= timezone.now():
        raise SurveyLinkError("This rating link has expired.")


def survey_pending(*, tenant: Tenant, actor: Actor, ticket: Ticket) -> SatisfactionSurvey | None:
    """The open survey of a solved ticket the actor may see, for the help centre's form."""
    if ticket.status != Status.SOLVED:
        return None
    access.require_visible(tenant=tenant, actor=actor, ticket=ticket)
    return (
        SatisfactionSurvey.objects.filter(
            tenant=tenant, ticket=ticket, rated_at=None, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )


def survey_last_rating(*, tenant: Tenant, ticket: Ticket) -> SatisfactionSurvey | None:
    return (
        SatisfactionSurvey.objects.filter(tenant=tenant, ticket=ticket)
        .exclude(rated_at=None)
        .order_by("-rated_at")
        .first()
    )


def survey_answer(
    *, tenant: Tenant, actor: Actor, survey: SatisfactionSurvey, rating: str, comment: str
) -> SatisfactionSurvey:
    """Record the answer once, with its event on the ticket."""
    if rating not in Rating.values:
        raise ValidationError({"rating": "Choose good or bad."})
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError({"comment": f"Use at most {COMMENT_MAX} characters."})
    with transaction.atomic():
        locked = SatisfactionSurvey.objects.select_for_update().get(tenant=tenant, pk=survey.pk)
        try:
            _check_open(locked)
        except SurveyLinkError as exc:
            raise ValidationError(str(exc)) from exc
        locked.rating, locked.comment, locked.rated_at = rating, comment, timezone.now()
        locked.save(update_fields=["rating", "comment", "rated_at"])
        ticket = Ticket.objects.get(tenant=tenant, pk=locked.ticket_id)
        event_append(
            tenant=tenant,
            type=events.SATISFACTION_RATED,
            subject=ticket,
            actor=actor,
            payload={
                "number": ticket.number,
                "survey_id": locked.pk,
                "rating": rating,
                "comment": comment,
                "contact_id": locked.contact_id,
            },
        )
    return locked
