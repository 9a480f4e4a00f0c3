"""Customer notification e-mails a tenant may reword, per kind and language.

Templates are Django template syntax rendered from a string by a restricted engine: only
the tags and filters below exist (no ``load``, ``include``, ``extends``, ``debug``,
``autoescape`` or ``safe``), so a template can neither read files nor turn escaping off,
and the context holds plain strings only (no model whose methods a template could call).
The HTML part is the rendered text escaped as a whole, so a customer's ``<script>`` in a
ticket subject (or markup typed into the template) arrives as text; only the agent's
reply, sanitized HTML already (nh3), goes in as HTML.

The language: the requester's ``Contact.locale``, else the tenant's ``default_locale``
setting, else English; for each of those the tenant's own template wins over the built-in
one, and a language with neither falls through to the next.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.utils.html import linebreaks

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.inboxes import events
from autocrm.inboxes.models import NotificationTemplate
from autocrm.tickets.models import Ticket

TICKET_RECEIVED = "ticket_received"
AGENT_REPLIED = "agent_replied"
TICKET_SOLVED = "ticket_solved"
KINDS = (TICKET_RECEIVED, AGENT_REPLIED, TICKET_SOLVED)
LOCALES = ("en", "de", "fr", "es", "nl", "it", "pt", "ja")
LOCALE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")

_SAFE_TAGS = ("if", "for", "with", "firstof", "comment", "now", "spaceless", "verbatim")
_UNSAFE_FILTERS = {"safe", "safeseq", "escapejs", "json_script", "pprint", "force_escape"}

_library = Library()
for _name in _SAFE_TAGS:
    _library.tag(_name, defaulttags.register.tags[_name])
for _name, _func in defaultfilters.register.filters.items():
    if _name not in _UNSAFE_FILTERS:
        _library.filters[_name] = _func


class _RestrictedEngine(Engine):
    # Engine adds its default builtins (all tags, loader tags included) to any given:
    # replace them instead, so only _library exists.
    default_builtins: ClassVar[list[str]] = []


def _engine(*, autoescape: bool) -> Engine:
    engine = _RestrictedEngine(autoescape=autoescape, libraries={}, loaders=[])
    engine.template_builtins = [_library]
    return engine


def _context(values: dict[str, Any]) -> Context:
    # A Context escapes unless told otherwise, whatever the engine says.
    return Context(values, autoescape=False)


# Output is plain text (subject, text part); the HTML part escapes it as a whole.
_ENGINE = _engine(autoescape=False)


@dataclass(frozen=True)
class Template:
    kind: str
    locale: str
    subject: str
    body: str
    custom: bool  # the tenant's own (False: the built-in default)


DEFAULTS: dict[tuple[str, str], tuple[str, str]] = {
    (TICKET_RECEIVED, "en"): (
        "We received your request: {{ ticket.subject }} [#{{ ticket.number }}]",
        "Hello {{ requester.name }},\n\nthank you for writing to {{ tenant.name }}. Your "
        "request #{{ ticket.number }} is with our team; we will reply to this address.",
    ),
    (AGENT_REPLIED, "en"): (
        "Re: {{ ticket.subject }} [#{{ ticket.number }}]",
        "{{ reply }}",
    ),
    (TICKET_SOLVED, "en"): (
        "Solved: {{ ticket.subject }} [#{{ ticket.number }}]",
        "Hello {{ requester.name }},\n\nwe marked your request #{{ ticket.number }} as "
        "solved. If something is still open, just reply to this e-mail.",
    ),
    (TICKET_RECEIVED, "de"): (
        "Wir haben Ihre Anfrage erhalten: {{ ticket.subject }} [#{{ ticket.number }}]",
        "Hallo {{ requester.name }},\n\nvielen Dank für Ihre Nachricht an {{ tenant.name }}. "
        "Ihre Anfrage #{{ ticket.number }} ist bei unserem Team; wir antworten an diese "
        "Adresse.",
    ),
    (AGENT_REPLIED, "de"): ("AW: {{ ticket.subject }} [#{{ ticket.number }}]", "{{ reply }}"),
    (TICKET_SOLVED, "de"): (
        "Gelöst: {{ ticket.subject }} [#{{ ticket.number }}]",
        "Hallo {{ requester.name }},\n\nwir haben Ihre Anfrage #{{ ticket.number }} als "
        "gelöst markiert. Ist noch etwas offen, antworten Sie einfach auf diese E-Mail.",
    ),
    (TICKET_RECEIVED, "fr"): (
        "Nous avons reçu votre demande : {{ ticket.subject }} [#{{ ticket.number }}]",
        "Bonjour {{ requester.name }},\n\nmerci d'avoir écrit à {{ tenant.name }}. Votre "
        "demande n°{{ ticket.number }} est entre les mains de notre équipe ; nous "
        "répondrons à cette adresse.",
    ),
    (AGENT_REPLIED, "fr"): ("RE : {{ ticket.subject }} [#{{ ticket.number }}]", "{{ reply }}"),
    (TICKET_SOLVED, "fr"): (
        "Résolu : {{ ticket.subject }} [#{{ ticket.number }}]",
        "Bonjour {{ requester.name }},\n\nnous avons marqué votre demande "
        "n°{{ ticket.number }} comme résolue. S'il reste une question, répondez simplement "
        "à cet e-mail.",
    ),
}

# What a preview renders with (the settings page and the API's validation).
SAMPLE_CONTEXT: dict[str, Any] = {
    "ticket": {"number": 1042, "subject": "Printer on floor 3 is offline", "status": "open"},
    "requester": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "agent": {"name": "Grace Hopper"},
    "tenant": {"name": "Acme Support"},
    "reply": "Hello Ada,\n\nwe restarted the print server; it should work again.",
}


def locale_normalize(value: str) -> str:
    return value.strip().lower().replace("_", "-")


def _check_kind_locale(kind: str, locale: str) -> None:
    if kind not in KINDS:
        raise ValidationError({"kind": f"Unknown kind {kind!r}; one of {', '.join(KINDS)}."})
    if not LOCALE_TAG.match(locale):
        raise ValidationError({"locale": f"{locale!r} is not a language tag such as 'de'."})


def template_validate(*, subject: str, body: str) -> None:
    """Raise ValidationError naming the field whose syntax does not parse or render."""
    errors: dict[str, str] = {}
    for field, source in (("subject", subject), ("body", body)):
        if not source.strip():
            errors[field] = "This field may not be blank."
            continue
        try:
            _ENGINE.from_string(source).render(_context(SAMPLE_CONTEXT))
        except TemplateSyntaxError as exc:
            errors[field] = f"Invalid template: {exc}"
    if "\n" in subject or "\r" in subject:
        errors["subject"] = "The subject must be one line."
    if errors:
        raise ValidationError(errors)


def _candidates(tenant: Tenant, requested: str) -> list[str]:
    out: list[str] = []
    for value in (requested, str(tenant.setting("default_locale") or ""), "en"):
        tag = locale_normalize(value)
        for candidate in (tag, tag.partition("-")[0]):
            if candidate and candidate not in out:
                out.append(candidate)
    return out


def template_get(*, tenant: Tenant, actor: Actor, kind: str, locale: str) -> Template:
    """Exactly this kind and language: the tenant's row, else the built-in default, else
    the English default (what an editor starts from)."""
    _check_kind_locale(kind, locale)
    row = NotificationTemplate.objects.filter(tenant=tenant, kind=kind, locale=locale).first()
    if row is not None:
        return Template(kind, locale, row.subject, row.body, custom=True)
    subject, body = DEFAULTS.get((kind, locale)) or DEFAULTS[(kind, "en")]
    return Template(kind, locale, subject, body, custom=False)


def template_list(*, tenant: Tenant, actor: Actor) -> list[Template]:
    """Every kind in every known language plus any other language the tenant wrote."""
    rows = {
        (r.kind, r.locale): r
        for r in NotificationTemplate.objects.filter(tenant=tenant).order_by("kind", "locale")
    }
    locales = list(dict.fromkeys([*LOCALES, *(loc for _, loc in rows)]))
    out = []
    for kind in KINDS:
        for loc in locales:
            row = rows.get((kind, loc))
            if row is not None:
                out.append(Template(kind, loc, row.subject, row.body, custom=True))
            else:
                subject, body = DEFAULTS.get((kind, loc)) or DEFAULTS[(kind, "en")]
                out.append(Template(kind, loc, subject, body, custom=False))
    return out


def template_resolve(*, tenant: Tenant, kind: str, locale: str) -> Template:
    """The template a customer whose language is ``locale`` gets (see the module doc)."""
    candidates = _candidates(tenant, locale)
    rows = {
        r.locale: r
        for r in NotificationTemplate.objects.filter(
            tenant=tenant, kind=kind, locale__in=candidates
        )
    }
    for loc in candidates:
        if loc in rows:
            return Template(kind, loc, rows[loc].subject, rows[loc].body, custom=True)
        if (kind, loc) in DEFAULTS:
            subject, body = DEFAULTS[(kind, loc)]
            return Template(kind, loc, subject, body, custom=False)
    subject, body = DEFAULTS[(kind, "en")]
    return Template(kind, "en", subject, body, custom=False)


def notification_context(*, tenant: Tenant, ticket: Ticket, reply: str = "") -> dict[str, Any]:
    """What a template sees: plain strings and numbers only (see the module doc)."""
    requester = ticket.requester
    assignee = ticket.assignee
    return {
        "ticket": {"number": ticket.number, "subject": ticket.subject, "status": ticket.status},
        "requester": {"name": requester.display_name, "email": requester.email},
        "agent": {"name": assignee.display_name if assignee else ""},
        "tenant": {"name": tenant.name},
        "reply": reply,
    }


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def template_render(
    template: Template, context: dict[str, Any], *, reply_html: str | None = None
) -> Rendered:
    """Subject (one line), plain text and HTML. The HTML part is the plain text escaped as
    a whole (what the template's author typed and every value alike), blank lines made
    paragraphs; ``reply_html``, the agent's sanitized reply, is the one piece of HTML let
    through, where the template says ``{{ reply }}``."""
    subject = " ".join(_ENGINE.from_string(template.subject).render(_context(context)).split())
    token = f"autocrm-reply-{secrets.token_hex(8)}"
    rendered = _ENGINE.from_string(template.body).render(_context({**context, "reply": token}))
    text = rendered.replace(token, str(context.get("reply", "")))
    html = str(linebreaks(rendered, autoescape=True))
    if reply_html is None:
        reply_html = str(linebreaks(str(context.get("reply", "")), autoescape=True))
    html = html.replace(f"<p>{token}</p>", reply_html).replace(token, reply_html)
    return Rendered(subject=subject, text=text, html=html)


@transaction.atomic
def template_save(
    *, tenant: Tenant, actor: Actor, kind: str, locale: str, subject: str, body: str
) -> Template:
    """Create or replace the tenant's template; bad syntax raises ValidationError and
    nothing is stored."""
    locale = locale_normalize(locale)
    _check_kind_locale(kind, locale)
    template_validate(subject=subject, body=body)
    row, created = NotificationTemplate.objects.update_or_create(
        tenant=tenant, kind=kind, locale=locale, defaults={"subject": subject, "body": body}
    )
    event_append(
        tenant=tenant,
        type=events.NOTIFICATION_TEMPLATE_UPDATED,
        subject=row,
        actor=actor,
        payload={"kind": kind, "locale": locale, "created": created},
    )
    return Template(kind, locale, subject, body, custom=True)


@transaction.atomic
def template_reset(*, tenant: Tenant, actor: Actor, kind: str, locale: str) -> Template:
    """Back to the built-in default (deletes the tenant's row, if any)."""
    locale = locale_normalize(locale)
    _check_kind_locale(kind, locale)
    row = NotificationTemplate.objects.filter(tenant=tenant, kind=kind, locale=locale).first()
    if row is not None:
        event_append(
            tenant=tenant,
            type=events.NOTIFICATION_TEMPLATE_RESET,
            subject=row,
            actor=actor,
            payload={"kind": kind, "locale": locale},
        )
        row.delete()
    return template_get(tenant=tenant, actor=actor, kind=kind, locale=locale)
