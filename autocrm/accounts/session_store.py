"""Django's database sessions, read with one prepared statement (``SESSION_ENGINE``).

Every signed-in request reads its session row first. Django's store builds and compiles a
queryset for it (``Session.objects.get(session_key=..., expire_date__gt=now)``), about
0.5 ms of CPU per request; the same statement, prepared once per connection
(``autocrm.core.sql``), costs a tenth of that. Writes, expiry, ``clear_expired`` and the
encoding are Django's, unchanged (ADR 0054)."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from autocrm.core import sql

_SESSION_ROW = (
    f"SELECT session_data, expire_date FROM {Session._meta.db_table} "  # noqa: S608 — table name from model metadata
    "WHERE session_key = %(key)s::text AND expire_date > %(now)s::timestamptz"
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        row = sql.fetch_one(_SESSION_ROW, {"key": key, "now": timezone.now()})
        if key is None or row is None:
            self._session_key = None  # as Django's store: unknown or expired
            return None
        return self.model(session_key=key, session_data=row[0], expire_date=row[1])
