"""Audit events rendered as sentences on the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

from autocrm.accounts.models import User
from autocrm.core.models import Event
from autocrm.workspace.timeline import describe, payload_user_ids


def event(type_: str, payload: dict[str, object], actor: User | None = None) -> Event:
    return Event(
        type=type_,
        subject_type="x",
        subject_id="1",
        actor=actor,
        actor_label=actor.email if actor else "system",
        payload=payload,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_known_events_read_as_sentences() -> None:
    ada = User(email="ada@acme.test", name="Ada Admin")
    entry = describe(event("invitation.created", {"email": "b@x.test", "role": "light_agent"}, ada))
    assert (entry.actor, entry.text) == ("Ada Admin", "invited b@x.test as light agent")
    changed = describe(
        event("membership.role_changed", {"user_id": 7, "role": {"from": "agent", "to": "admin"}}),
        {7: "sam@acme.test"},
    )
    assert changed.actor == "System"
    assert changed.text == "changed sam@acme.test's role from agent to admin"
    online = describe(
        event("agent.availability_changed", {"user_id": 7, "to": "online", "source": "presence"}),
        {7: "sam@acme.test"},
    )
    assert online.text == "set sam@acme.test to online (presence)"


def test_settings_changes_name_each_change() -> None:
    entry = describe(
        event(
            "tenant.settings_updated",
            {
                "changes": {
                    "name": {"from": "Acme", "to": "Acme Support"},
                    "settings.restrict_agents_to_own_teams": {"from": True, "to": False},
                }
            },
        )
    )
    assert entry.text == (
        "changed name from “Acme” to “Acme Support”, turned off “restrict agents to own teams”"
    )


def test_events_without_a_sentence_of_their_own_are_said_from_their_type() -> None:
    assert describe(event("ticket.merged", {})).text == "merged a ticket"
    assert describe(event("tag.created", {"name": "billing"})).text == "created the tag “billing”"
    assert describe(event("kb.article.published", {"title": "Reset"})).text == (
        "published the article “Reset”"
    )
    assert describe(event("sla_policy.deleted", {})).text == "deleted an SLA policy"
    assert describe(event("sla.breached", {})).text == "SLA breached"
    assert describe(event("inbox.fetch_failed", {"name": "Support"})).text == (
        "inbox fetch failed: “Support”"
    )
    assert describe(event("webhook.secret_rotated", {})).text == "rotated the webhook's secret"


def test_every_registered_event_type_reads_without_dots_or_underscores() -> None:
    from autocrm.core.events import event_types_registered

    assert len(event_types_registered()) > 50
    for event_type in sorted(event_types_registered()):
        text = describe(event(event_type, {})).text
        assert "." not in text and "_" not in text, (event_type, text)


def test_removed_members_without_a_known_email_are_named_by_id() -> None:
    removed = event("membership.removed", {"user_id": 9, "role": "agent"})
    assert describe(removed).text == "removed user #9 (agent)"
    assert payload_user_ids([removed]) == {9}
