"""The inbound pipeline on real PostgreSQL: threading rules, collaborators, attachments,
robots, and all-or-nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes import inbound
from autocrm.inboxes.inbound import ImportResult, email_import
from autocrm.inboxes.models import InboundEmail, Inbox
from autocrm.inboxes.parsing import InvalidEmail
from autocrm.inboxes.tests.factories import mail
from autocrm.tickets.models import Attachment, Collaborator, Message, Ticket
from autocrm.tickets.services import ticket_change_status

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def run(tenant: Tenant, box: Inbox, raw: bytes) -> ImportResult:
    with tenant_context(tenant):
        return email_import(tenant=tenant, inbox=box, raw=raw)


def tid(result: ImportResult) -> int:
    assert result.ticket_id is not None
    return result.ticket_id


def mid(result: ImportResult) -> int:
    assert result.message_id is not None
    return result.message_id


def ticket_of(tenant: Tenant, result: ImportResult) -> Ticket:
    with tenant_context(tenant):
        return Ticket.objects.select_related("requester").get(pk=tid(result))


def test_new_mail_makes_a_ticket_with_the_sender_as_requester(tenant_a: Tenant, box: Inbox) -> None:
    result = run(tenant_a, box, mail(sender="Ana Lima <Ana@Customer.test>", subject="Login fails"))
    assert result.created_ticket and result.reason == "new"
    ticket = ticket_of(tenant_a, result)
    assert ticket.requester.email == "ana@customer.test"
    assert ticket.requester.name == "Ana Lima"
    assert ticket.metadata["inbox_id"] == box.pk
    with tenant_context(tenant_a):
        message = Message.objects.get(pk=mid(result))
        assert message.email_message_id.endswith("@customer.test>")
        types = set(Event.objects.values_list("type", flat=True))
    assert {"ticket.created", "contact.created", "email.received"} <= types


def test_reply_threads_by_in_reply_to_then_references(tenant_a: Tenant, box: Inbox) -> None:
    first = run(tenant_a, box, mail(message_id="<one@customer.test>"))
    reply = run(
        tenant_a,
        box,
        mail(
            subject="Re: Printer on fire", in_reply_to="<one@customer.test>", text="Still burning."
        ),
    )
    assert (reply.ticket_id, reply.created_ticket, reply.reason) == (
        first.ticket_id,
        False,
        "in_reply_to",
    )
    by_refs = run(
        tenant_a,
        box,
        mail(subject="another", references="<unknown@x.test> <one@customer.test>", text="Third."),
    )
    assert (by_refs.ticket_id, by_refs.reason) == (first.ticket_id, "references")
    with tenant_context(tenant_a):
        assert Message.objects.filter(ticket_id=tid(first)).count() == 3


def test_subject_token_and_plus_address_need_a_sender_on_the_ticket(
    tenant_a: Tenant, box: Inbox
) -> None:
    first = run(tenant_a, box, mail())
    number = ticket_of(tenant_a, first).number
    token = run(tenant_a, box, mail(subject=f"Re: Printer [#{number}]", text="by token"))
    assert (token.ticket_id, token.reason) == (first.ticket_id, "subject_token")
    plus = run(
        tenant_a, box, mail(subject="no token", to=f"support+{number}@acme.test", text="plus")
    )
    assert (plus.ticket_id, plus.reason) == (first.ticket_id, "plus_address")
    stranger = run(
        tenant_a,
        box,
        mail(sender="eve@evil.test", subject=f"Re: [#{number}] hijack", text="mine now"),
    )
    assert stranger.created_ticket and stranger.ticket_id != first.ticket_id


def test_a_reply_to_a_closed_ticket_starts_a_follow_up(tenant_a: Tenant, box: Inbox) -> None:
    first = run(tenant_a, box, mail(message_id="<closed@customer.test>"))
    with tenant_context(tenant_a):
        ticket_change_status(tenant=tenant_a, actor=SYSTEM, ticket_id=tid(first), status="solved")
        ticket_change_status(tenant=tenant_a, actor=SYSTEM, ticket_id=tid(first), status="closed")
    again = run(tenant_a, box, mail(in_reply_to="<closed@customer.test>", text="It broke again."))
    assert again.created_ticket and again.ticket_id != first.ticket_id
    assert ticket_of(tenant_a, again).metadata["follow_up_of"] == ticket_of(tenant_a, first).number


def test_cc_becomes_collaborators_but_not_our_own_addresses(tenant_a: Tenant, box: Inbox) -> None:
    result = run(
        tenant_a,
        box,
        mail(
            to="support@acme.test, Boss <boss@customer.test>",
            cc="Kim <kim@customer.test>, support+7@acme.test",
        ),
    )
    with tenant_context(tenant_a):
        emails = set(
            Collaborator.objects.filter(ticket_id=tid(result)).values_list(
                "contact__email", flat=True
            )
        )
    assert emails == {"boss@customer.test", "kim@customer.test"}
    # A collaborator's reply is theirs, on the requester's side of the conversation.
    reply = run(
        tenant_a,
        box,
        mail(
            sender="kim@customer.test",
            subject=f"Re: [#{ticket_of(tenant_a, result).number}]",
            text="Me too.",
        ),
    )
    with tenant_context(tenant_a):
        message = Message.objects.select_related("author_contact").get(pk=mid(reply))
    assert reply.reason == "subject_token"
    assert message.author_contact is not None
    assert message.author_contact.email == "kim@customer.test"


def test_new_text_is_separated_and_the_original_kept(tenant_a: Tenant, box: Inbox) -> None:
    text = (
        "Thanks, that worked.\n\n"
        "On Mon, 2 Mar 2026 at 10:00, Support <support@acme.test> wrote:\n"
        "> Try turning it off.\n"
    )
    result = run(tenant_a, box, mail(text=text))
    with tenant_context(tenant_a):
        message = Message.objects.get(pk=mid(result))
        row = InboundEmail.objects.get(message=message)
    assert message.body_text == "Thanks, that worked."
    assert "Try turning it off." in row.text_full
    assert row.raw.name
    assert b"Try turning it off." in default_storage.open(row.raw.name).read()


def test_attachments_are_stored_and_inline_images_rewritten(tenant_a: Tenant, box: Inbox) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "pat@customer.test", "support@acme.test", "Screenshot"
    msg["Message-ID"] = "<img@customer.test>"
    msg.set_content("See the screenshot.")
    msg.add_alternative('<p>See <img src="cid:shot1@customer.test"></p>', subtype="html")
    html_part = msg.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(PNG, maintype="image", subtype="png", cid="<shot1@customer.test>")
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="data.csv")
    result = run(tenant_a, box, msg.as_bytes())
    with tenant_context(tenant_a):
        files = {a.filename: a for a in Attachment.objects.filter(message_id=mid(result))}
        row = InboundEmail.objects.get(message_id=mid(result))
    assert set(files) == {"attachment-1.png", "data.csv"}
    assert files["attachment-1.png"].content_type == "image/png"
    assert f"/api/v1/attachments/{files['attachment-1.png'].pk}/download" in row.html_full
    assert "cid:" not in row.html_full


def test_oversized_attachments_are_dropped_with_a_note(
    tenant_a: Tenant, box: Inbox, settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1000
    result = run(
        tenant_a, box, mail(attachments=[("big.bin", b"x" * 5000, "application/octet-stream")])
    )
    with tenant_context(tenant_a):
        assert not Attachment.objects.exists()
        note = Message.objects.get(ticket_id=tid(result), public=False)
    assert "big.bin (5000 bytes)" in note.body_text


@pytest.mark.parametrize(
    "headers, sender, reason",
    [
        ({"Auto-Submitted": "auto-replied"}, "pat@customer.test", "auto_reply"),
        ({"X-Autoreply": "yes"}, "pat@customer.test", "auto_reply"),
        ({"X-Auto-Response-Suppress": "All"}, "pat@customer.test", "auto_reply"),
        ({"Precedence": "bulk"}, "pat@customer.test", "bulk"),
        ({}, "MAILER-DAEMON@mx.customer.test", "bounce"),
        ({}, "support@acme.test", "loop"),
        ({"X-Spam-Flag": "YES"}, "pat@customer.test", "spam"),
        ({"X-Spam-Status": "Yes, score=12.1"}, "pat@customer.test", "spam"),
    ],
)
def test_robots_are_logged_and_touch_no_ticket(
    tenant_a: Tenant, box: Inbox, headers: dict[str, str], sender: str, reason: str
) -> None:
    result = run(tenant_a, box, mail(headers=headers, sender=sender))
    assert (result.outcome, result.reason, result.ticket_id) == ("ignored", reason, None)
    with tenant_context(tenant_a):
        assert not Ticket.objects.exists()
        assert Event.objects.filter(type="email.ignored").count() == 1


def test_a_sender_over_the_hourly_limit_is_stored_but_ignored(
    tenant_a: Tenant, box: Inbox, settings: Any
) -> None:
    settings.INBOUND_EMAIL_PER_SENDER_PER_HOUR = 3
    outcomes = [run(tenant_a, box, mail(text=f"loop {n}")).reason for n in range(5)]
    assert outcomes == ["new", "new", "new", "rate_limited", "rate_limited"]
    assert run(tenant_a, box, mail(sender="other@customer.test")).reason == "new"
    with tenant_context(tenant_a):
        assert InboundEmail.objects.count() == 6


def test_unknown_senders_are_ignored_when_the_inbox_creates_no_contacts(tenant_a: Tenant) -> None:
    from autocrm.inboxes.tests.factories import inbox

    closed = inbox(tenant_a, address="vip@acme.test", create_contacts=False)
    result = run(tenant_a, closed, mail(to="vip@acme.test"))
    assert (result.outcome, result.reason) == ("ignored", "unknown_sender")


def test_a_failure_midway_leaves_nothing(
    tenant_a: Tenant, box: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(inbound, "ticket_collaborator_add", boom)
    raw = mail(cc="kim@customer.test")
    with tenant_context(tenant_a):
        events_before = Event.objects.count()
    with pytest.raises(RuntimeError):
        run(tenant_a, box, raw)
    with tenant_context(tenant_a):
        assert not Ticket.objects.exists() and not InboundEmail.objects.exists()
        assert Event.objects.count() == events_before
    monkeypatch.undo()
    assert run(tenant_a, box, raw).created_ticket  # and the retry imports it whole


def test_mail_without_message_id_dedupes_by_content(tenant_a: Tenant, box: Inbox) -> None:
    raw = mail(message_id=None)
    first, second = run(tenant_a, box, raw), run(tenant_a, box, raw)
    assert first.ticket_id == second.ticket_id and second.duplicate
    other = run(tenant_a, box, mail(message_id=None, text="different"))
    assert other.ticket_id != first.ticket_id


def test_invalid_mail_raises_before_touching_anything(tenant_a: Tenant, box: Inbox) -> None:
    with pytest.raises(InvalidEmail):
        run(tenant_a, box, b"Subject: no sender\r\n\r\nbody")


def test_the_same_mail_imported_twice_at_once_is_one_message(tenant_a: Tenant, box: Inbox) -> None:
    """Two deliveries racing (a retried pipe, a second MX): each on its own connection, both
    inside their transaction at the same time; the second waits on the first's unique keys,
    then undoes its own work and answers with the first's result."""
    import threading

    from django.db import connection

    raw = mail(message_id="<race@customer.test>", cc="kim@customer.test")
    results: list[ImportResult] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def deliver() -> None:
        try:
            start.wait()
            results.append(run(tenant_a, box, raw))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.duplicate for r in results) == [False, True]
    assert len({(r.ticket_id, r.message_id) for r in results}) == 1
    with tenant_context(tenant_a):
        assert Ticket.objects.count() == 1 and Message.objects.count() == 1
        assert InboundEmail.objects.count() == 1 and Collaborator.objects.count() == 1


def test_content_language_gives_a_contact_without_one_its_language(
    tenant_a: Tenant, box: Inbox
) -> None:
    from autocrm.crm.models import Contact

    def lang(value: str, raw: bytes) -> bytes:  # set_content() drops Content-* headers
        return f"Content-Language: {value}\n".encode() + raw

    run(tenant_a, box, lang("de-DE, en", mail()))
    # A known contact without a language learns it; one with a language keeps it.
    with tenant_context(tenant_a):
        Contact.objects.create(tenant=tenant_a, email="kim@customer.test")
        Contact.objects.create(tenant=tenant_a, email="lea@customer.test", locale="fr")
    run(tenant_a, box, lang("nl", mail(sender="kim@customer.test")))
    run(tenant_a, box, lang("nl", mail(sender="lea@customer.test")))
    run(tenant_a, box, lang("x y!", mail(sender="max@customer.test")))
    with tenant_context(tenant_a):
        locales = dict(Contact.objects.values_list("email", "locale"))
        learned = list(
            Event.objects.filter(type="contact.updated").values_list("payload", flat=True)
        )
    assert locales == {
        "pat@customer.test": "de-de",
        "kim@customer.test": "nl",
        "lea@customer.test": "fr",
        "max@customer.test": "",
    }
    assert learned == [{"changes": {"locale": {"from": "", "to": "nl"}}}]
