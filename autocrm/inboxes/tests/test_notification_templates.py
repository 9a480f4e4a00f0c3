"""Customer notification templates: per tenant, per language, restricted and escaped."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Contact
from autocrm.inboxes import events
from autocrm.inboxes import notification_templates as nt
from autocrm.inboxes.models import NotificationTemplate
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db


def _resolve(tenant: Tenant, locale: str, kind: str = nt.TICKET_SOLVED) -> nt.Template:
    with tenant_context(tenant):
        return nt.template_resolve(tenant=tenant, kind=kind, locale=locale)


def _save(tenant: Tenant, locale: str, subject: str, body: str, kind: str = nt.TICKET_SOLVED):  # type: ignore[no-untyped-def]
    with tenant_context(tenant):
        return nt.template_save(
            tenant=tenant, actor=SYSTEM, kind=kind, locale=locale, subject=subject, body=body
        )


def test_built_in_defaults_per_language_and_fallback_to_english(tenant_a: Tenant) -> None:
    assert _resolve(tenant_a, "de").subject.startswith("Gelöst:")
    assert _resolve(tenant_a, "fr-CA").subject.startswith("Résolu :")  # primary subtag
    english = _resolve(tenant_a, "ja")  # no Japanese default: English
    assert (english.locale, english.custom) == ("en", False)
    assert _resolve(tenant_a, "").locale == "en"


def test_tenant_default_locale_comes_before_english(tenant_a: Tenant) -> None:
    tenant_a.settings = {**tenant_a.settings, "default_locale": "de"}
    tenant_a.save(update_fields=["settings"])
    assert _resolve(tenant_a, "").locale == "de"
    assert _resolve(tenant_a, "ja").locale == "de"
    assert _resolve(tenant_a, "fr").locale == "fr"  # the requester's own language first


def test_the_tenants_template_wins_only_for_its_tenant(tenant_a: Tenant, tenant_b: Tenant) -> None:
    _save(tenant_a, "ja", "解決しました [#{{ ticket.number }}]", "{{ requester.name }} 様")
    mine = _resolve(tenant_a, "ja")
    assert (mine.locale, mine.custom, mine.subject) == (
        "ja",
        True,
        "解決しました [#{{ ticket.number }}]",
    )
    assert _resolve(tenant_b, "ja").locale == "en"
    with tenant_context(tenant_a):
        event = Event.objects.get(tenant=tenant_a, type=events.NOTIFICATION_TEMPLATE_UPDATED)
    assert event.payload == {"kind": "ticket_solved", "locale": "ja", "created": True}


def test_rendering_fills_the_ticket_and_escapes_the_html_part(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        t = ticket(tenant_a, subject="<script>alert(1)</script> broken", requester_name="Pat")
        context = nt.notification_context(tenant=tenant_a, ticket=t)
        template = nt.template_resolve(tenant=tenant_a, kind=nt.TICKET_RECEIVED, locale="en")
        rendered = nt.template_render(
            nt.Template(
                "ticket_received", "en", template.subject, "{{ ticket.subject }}\n\nBye", True
            ),
            context,
        )
    assert rendered.subject.startswith("We received your request: <script>")  # a header: text
    assert f"[#{t.number}]" in rendered.subject
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; broken" in rendered.html
    assert "<p>Bye</p>" in rendered.html
    assert rendered.text.startswith("<script>alert(1)</script> broken\n\nBye")


@pytest.mark.parametrize(
    ("subject", "body", "field"),
    [
        ("Hi {% if %}", "ok", "subject"),
        ("Hi", "{% load static %}{% static 'x' %}", "body"),
        ("Hi", "{% include 'base.html' %}", "body"),
        ("Hi", "{% autoescape off %}{{ ticket.subject }}{% endautoescape %}", "body"),
        ("Hi", "{{ ticket.subject|safe }}", "body"),
        ("Hi", "{% debug %}", "body"),
        ("Hi", "{{ ticket.subject|nosuchfilter }}", "body"),
        ("", "ok", "subject"),
        ("Two\nlines", "ok", "subject"),
    ],
)
def test_bad_syntax_and_unsafe_tags_are_refused_and_nothing_is_saved(
    tenant_a: Tenant, subject: str, body: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _save(tenant_a, "en", subject, body)
    assert field in caught.value.message_dict
    with tenant_context(tenant_a):
        assert not NotificationTemplate.objects.filter(tenant=tenant_a).exists()
        assert not Event.objects.filter(type=events.NOTIFICATION_TEMPLATE_UPDATED).exists()


def test_unknown_kind_or_locale_is_refused(tenant_a: Tenant) -> None:
    with pytest.raises(ValidationError):
        _save(tenant_a, "en", "Hi", "ok", kind="invoice")
    with pytest.raises(ValidationError):
        _save(tenant_a, "../etc", "Hi", "ok")


def test_reset_returns_to_the_default_with_an_event(tenant_a: Tenant) -> None:
    _save(tenant_a, "de", "Erledigt", "Fertig.")
    assert _resolve(tenant_a, "de").subject == "Erledigt"
    with tenant_context(tenant_a):
        back = nt.template_reset(tenant=tenant_a, actor=SYSTEM, kind=nt.TICKET_SOLVED, locale="de")
        assert Event.objects.filter(type=events.NOTIFICATION_TEMPLATE_RESET).count() == 1
    assert back.custom is False and back.subject.startswith("Gelöst:")
    assert _resolve(tenant_a, "de").custom is False


def test_the_requesters_contact_carries_the_language(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        Contact.objects.filter(pk=t.requester_id).update(locale="de")
        t.requester.refresh_from_db()
        resolved = nt.template_resolve(
            tenant=tenant_a, kind=nt.TICKET_SOLVED, locale=t.requester.locale
        )
    assert resolved.locale == "de"
