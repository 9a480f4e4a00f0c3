"""CSAT: solving a ticket e-mails its requester signed, single-use rating links (through the
email send queue, from the workspace's inbox); the answer lands on the ticket as an event;
expired, reused and forged links say so and change nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.tests.factories import inbox
from autocrm.portal import satisfaction
from autocrm.portal.models import SatisfactionSurvey
from autocrm.portal.tests.helpers import customer, signed_in, ticket_of
from autocrm.testing.worker import run_worker_until_idle
from autocrm.tickets import services
from autocrm.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _inbox(tenant_a: Tenant) -> None:
    """The inbox the survey mail leaves from."""
    inbox(tenant_a)


def _solve(tenant: Tenant, t: Ticket) -> None:
    with tenant_context(tenant):
        services.ticket_update(
            tenant=tenant, actor=SYSTEM, ticket_id=t.pk, changes={"status": "solved"}
        )
    run_worker_until_idle()  # events_dispatch creates the survey and queues its mail
    run_worker_until_idle()  # inboxes.email_send sends it


def _links() -> dict[str, str]:
    (message,) = [m for m in mail.outbox if m.subject.startswith("How did we do?")]
    found = re.findall(r"(Good|Bad):\s+\S+?(/acme/help/rate/\S+)", str(message.body))
    return {kind.lower(): path for kind, path in found}


def test_solving_sends_links_and_a_rating_lands_on_the_ticket(tenant_a: Tenant) -> None:
    user = customer(tenant_a)
    t = ticket_of(tenant_a, user)
    _solve(tenant_a, t)
    links = _links()
    assert set(links) == {"good", "bad"}
    client = Client()
    page = client.get(links["bad"])
    assert page.status_code == 200
    assert re.search(r'value="bad"[^>]*checked', page.content.decode())
    token_path = links["bad"].split("?")[0]
    done = client.post(token_path, {"rating": "bad", "comment": "Took <b>ages</b>"})
    assert done.status_code == 200 and "Thank you" in done.content.decode()
    with tenant_context(tenant_a):
        survey = SatisfactionSurvey.objects.get(ticket=t)
        event = Event.objects.get(type="ticket.satisfaction_rated")
    assert (survey.rating, survey.comment) == ("bad", "Took <b>ages</b>")
    assert event.subject_type == "tickets.ticket" and event.subject_id == str(t.pk)
    assert event.payload["rating"] == "bad" and event.payload["number"] == t.number
    # Used once: the other link (and this one) now say so, and nothing changes.
    for path in (links["good"], token_path):
        again = client.post(path.split("?")[0], {"rating": "good"})
        assert again.status_code == 410
        assert "You rated this request already" in again.content.decode()
    with tenant_context(tenant_a):
        assert SatisfactionSurvey.objects.get(ticket=t).rating == "bad"
        assert Event.objects.filter(type="ticket.satisfaction_rated").count() == 1
    # The rating shows on the request in the help centre, escaped.
    body = signed_in(user).get(f"/acme/help/requests/{t.number}/").content.decode()
    assert "You rated this request <strong>bad</strong>" in body
    assert "Took &lt;b&gt;ages&lt;/b&gt;" in body


def test_an_expired_link_says_so(tenant_a: Tenant) -> None:
    t = ticket_of(tenant_a, customer(tenant_a))
    _solve(tenant_a, t)
    path = _links()["good"].split("?")[0]
    with tenant_context(tenant_a):
        SatisfactionSurvey.objects.filter(ticket=t).update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
    response = Client().post(path, {"rating": "good"})
    assert response.status_code == 410
    assert "This rating link has expired." in response.content.decode()
    with tenant_context(tenant_a):
        assert SatisfactionSurvey.objects.get(ticket=t).rated_at is None


def test_forged_and_foreign_links_are_refused(tenant_a: Tenant, tenant_b: Tenant) -> None:
    t = ticket_of(tenant_a, customer(tenant_a))
    _solve(tenant_a, t)
    path = _links()["good"].split("?")[0]
    token = path.rstrip("/").rsplit("/", 1)[1]
    survey_id = signing.loads(token, salt=satisfaction.SALT)["s"]
    forged = signing.dumps({"s": survey_id, "n": "guess"}, salt=satisfaction.SALT)
    for url in [
        f"/acme/help/rate/{forged}/",
        "/acme/help/rate/garbage/",
        f"/globex/help/rate/{token}/",
    ]:
        response = Client().post(url, {"rating": "good"})
        assert response.status_code == 410, url
        assert "This rating link is not valid." in response.content.decode()


def test_rating_in_the_help_centre(tenant_a: Tenant) -> None:
    user = customer(tenant_a)
    t = ticket_of(tenant_a, user)
    _solve(tenant_a, t)
    client = signed_in(user)
    url = f"/acme/help/requests/{t.number}/"
    assert "How did we do?" in client.get(url).content.decode()
    client.post(url + "rate/", {"rating": "good", "comment": "Quick!"})
    with tenant_context(tenant_a):
        assert SatisfactionSurvey.objects.get(ticket=t).rating == "good"
    body = client.get(url).content.decode()
    assert "How did we do?" not in body and "You rated this request <strong>good</strong>" in body


def test_no_survey_when_the_tenant_does_not_ask(tenant_a: Tenant) -> None:
    tenant_a.settings["csat_enabled"] = False
    tenant_a.save()
    t = ticket_of(tenant_a, customer(tenant_a))
    _solve(tenant_a, t)
    assert not [m for m in mail.outbox if m.subject.startswith("How did we do?")]
    with tenant_context(tenant_a):
        assert not SatisfactionSurvey.objects.filter(ticket=t).exists()
