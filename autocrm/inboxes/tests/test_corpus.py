"""The corpus of real-world shapes (corpus/*.eml, written by scripts/email_corpus.py),
each with its expected outcome in corpus/manifest.json: parsed one by one, then imported in
order into one inbox, where every file must become exactly what the manifest says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.inbound import ImportResult, email_import
from autocrm.inboxes.parsing import parse_email
from autocrm.inboxes.quoting import new_text
from autocrm.inboxes.tests.factories import inbox, mail
from autocrm.tickets.models import Attachment, Collaborator, Message, Ticket
from autocrm.tickets.tests.api_client import Api

CORPUS = Path(__file__).parent / "corpus"
MANIFEST: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text("utf-8"))


def test_the_corpus_is_large_and_the_manifest_complete() -> None:
    files = sorted(p.name for p in CORPUS.glob("*.eml"))
    assert len(files) >= 60
    assert files == [entry["file"] for entry in MANIFEST]


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_each_file_parses_to_its_subject_and_new_text(entry: dict[str, Any]) -> None:
    parsed = parse_email((CORPUS / entry["file"]).read_bytes())
    if "subject" in entry and entry["subject"] != "(no subject)":
        assert parsed.subject == entry["subject"]
    if "requester" in entry:
        assert parsed.sender_email == entry["requester"]
    if "excerpt" in entry:
        assert entry["excerpt"] in new_text(parsed.text)
    if "not_in" in entry:
        assert entry["not_in"] not in new_text(parsed.text)
        assert entry["not_in"] in parsed.text  # separated, not lost


@pytest.mark.django_db(transaction=True)
def test_the_whole_corpus_imports_as_the_manifest_says(tenant_a: Tenant) -> None:
    box = inbox(tenant_a, aliases=["help@acme.test"])
    results: dict[str, ImportResult] = {}
    failures: list[str] = []
    for entry in MANIFEST:
        raw = (CORPUS / entry["file"]).read_bytes()
        with tenant_context(tenant_a):
            result = email_import(tenant=tenant_a, inbox=box, raw=raw)
            results[entry["file"]] = result
            problem = _check(entry, result, results)
        if problem:
            failures.append(f"{entry['file']}: {problem}")
    assert failures == []
    with tenant_context(tenant_a):
        first = results[MANIFEST[0]["file"]].ticket_id
        assert first is not None
        assert Ticket.objects.get(pk=first).number == 1  # the [#1] / +1 files
        # Every imported mail is one message, exactly once.
        imported = [r for r in results.values() if r.message_id is not None]
        assert len({r.message_id for r in imported}) == len(imported) - 1  # one duplicate


def _check(entry: dict[str, Any], result: ImportResult, results: dict[str, ImportResult]) -> str:
    outcome = entry["outcome"]
    if outcome == "ignored":
        if (result.outcome, result.reason) != ("ignored", entry["reason"]):
            return f"expected ignored/{entry['reason']}, got {result.outcome}/{result.reason}"
        return ""
    if outcome == "duplicate":
        target = results[entry["ticket_of"]]
        if not result.duplicate or result.message_id != target.message_id:
            return "expected the first import's message again"
        return ""
    if result.ticket_id is None or result.message_id is None:
        return f"expected {outcome}, got {result.outcome}/{result.reason}"
    message = Message.objects.select_related("author_contact").get(pk=result.message_id)
    ticket = Ticket.objects.select_related("requester").get(pk=result.ticket_id)
    if outcome == "new":
        if not result.created_ticket:
            return f"expected a new ticket, threaded by {result.reason}"
        if ticket.requester.email != entry["requester"]:
            return f"requester {ticket.requester.email}"
        if ticket.subject != entry["subject"]:
            return f"subject {ticket.subject!r}"
    else:
        if result.ticket_id != results[entry["ticket_of"]].ticket_id:
            return f"threaded onto the wrong ticket ({result.reason})"
        if result.reason != entry["rule"]:
            return f"rule {result.reason}, expected {entry['rule']}"
    if entry["excerpt"] not in message.body_text:
        return f"new text {message.body_text[:80]!r}"
    if "not_in" in entry and entry["not_in"] in message.body_text:
        return f"quoted text {entry['not_in']!r} left in the new text"
    if "attachments" in entry:
        count = Attachment.objects.filter(message=message).count()
        if count != entry["attachments"]:
            return f"{count} attachments"
    if "collaborators" in entry:
        found = sorted(
            Collaborator.objects.filter(ticket=ticket).values_list("contact__email", flat=True)
        )
        if found != entry["collaborators"]:
            return f"collaborators {found}"
    if "author" in entry and (
        message.author_contact is None or message.author_contact.email != entry["author"]
    ):
        return "wrong author"
    return ""


@pytest.mark.django_db
def test_a_20_mb_attachment_arrives_whole(client: Client, tenant_a: Tenant) -> None:
    """Built here, never committed: 20 MB of data is 27 MB of base64 in the message."""
    box = inbox(tenant_a)
    payload = bytes(range(256)) * (20 * 1024 * 1024 // 256)
    raw = mail(subject="Big log file", attachments=[("big.log", payload, "text/plain")])
    assert len(raw) > 27 * 1024 * 1024
    api = Api(client, api_key(tenant_a, scope="write"))
    response = client.post(
        f"/api/v1/inboxes/{box.pk}/raw",
        data=raw,
        content_type="message/rfc822",
        headers=api.headers,
    )
    assert response.status_code == 201, response.content
    with tenant_context(tenant_a):
        stored = Attachment.objects.get(message_id=response.json()["message_id"])
    assert (stored.filename, stored.size) == ("big.log", len(payload))
