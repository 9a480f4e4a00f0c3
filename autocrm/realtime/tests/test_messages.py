"""What one socket forwards of a bus message (pure rules, no server)."""

from __future__ import annotations

from typing import Any

from autocrm.realtime.messages import for_socket
from autocrm.tickets.access import TicketVisibility

ALL = TicketVisibility(user_id=7, teams=None)
TEAM_1 = TicketVisibility(user_id=7, teams=frozenset({1}))


def _ticket(**extra: Any) -> dict[str, Any]:
    return {
        "k": "ticket",
        "tenant": 1,
        "id": 10,
        "event": "ticket.updated",
        "number": 42,
        "team": 2,
        "assignee": None,
        "actor": 3,
        "actor_name": "Ana",
        "fields": ["status"],
        **extra,
    }


def test_everyone_unrestricted_hears_every_ticket() -> None:
    out = for_socket(_ticket(), visibility=ALL, user_id=7)
    assert out is not None and out["type"] == "ticket" and out["number"] == 42
    assert "team" not in out and "tenant" not in out  # routing facts stay on the server


def test_a_restricted_agent_hears_their_teams_and_their_own_tickets_only() -> None:
    assert for_socket(_ticket(), visibility=TEAM_1, user_id=7) is None
    assert for_socket(_ticket(team=1), visibility=TEAM_1, user_id=7) is not None
    assert for_socket(_ticket(assignee=7), visibility=TEAM_1, user_id=7) is not None


def test_a_ticket_that_left_sight_is_named_gone_once() -> None:
    moved = _ticket(team=2, was_team=1, fields=["team_id"])
    assert for_socket(moved, visibility=TEAM_1, user_id=7) == {
        "type": "ticket.gone",
        "id": 10,
        "number": 42,
    }
    unassigned = _ticket(team=2, assignee=None, was_assignee=7)
    assert for_socket(unassigned, visibility=TEAM_1, user_id=7)["type"] == "ticket.gone"  # type: ignore[index]
    never = _ticket(team=3, was_team=2)
    assert for_socket(never, visibility=TEAM_1, user_id=7) is None


def test_notifications_go_to_their_user_only() -> None:
    note = {
        "k": "notification",
        "tenant": 1,
        "id": 5,
        "user": 7,
        "notification": {"kind": "x"},
        "unread": 2,
    }
    assert for_socket(note, visibility=ALL, user_id=7) is not None
    assert for_socket(note, visibility=ALL, user_id=8) is None
