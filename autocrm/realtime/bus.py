"""The realtime bus: one PostgreSQL NOTIFY per event, heard by every web process.

The worker's ``realtime`` event handler publishes in its own transaction, so a push is sent
when (and only if) the handler's work commits; each web process holds one LISTEN connection
(``autocrm.realtime.hub``) and hands each message to its sockets of that tenant, which
filter it by what their user may see. One message per event whatever the number of sockets,
instead of one channel-layer message per socket (docs/adr/0008-realtime.md).

A message is a small JSON object (PostgreSQL limits a NOTIFY payload to 8000 bytes): it
names the ticket and what changed, never its content; browsers fetch what they show through
the ordinary pages, which apply the same permissions as any request.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection

CHANNEL = "autocrm_realtime"
MAX_PAYLOAD = 7900

# Kinds of bus message.
TICKET = "ticket"
NOTIFICATION = "notification"
PRESENCE = "presence"


def encode(message: dict[str, Any]) -> str:
    text = json.dumps(message, separators=(",", ":"), default=str)
    if len(text.encode()) > MAX_PAYLOAD:
        raise ValueError("A realtime message must stay under PostgreSQL's NOTIFY limit")
    return text


def publish(message: dict[str, Any]) -> None:
    """Queue ``message`` on Django's connection: PostgreSQL delivers it when the current
    transaction commits (at once outside one)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, encode(message)])
