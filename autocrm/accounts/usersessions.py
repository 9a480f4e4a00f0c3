"""Session activity for allauth's "your sessions" page, recorded without a write per request.

allauth's UserSessionsMiddleware (``USERSESSIONS_TRACK_ACTIVITY``) reads the session's row,
its user again, and writes ``last_seen_at`` in a transaction of its own on every request: five
statements of the ~20 a signed-in API request cost (docs/tickets-performance.md). This one
calls the same allauth code, but for each session at most once per
``USERSESSIONS_ACTIVITY_SECONDS`` per process, and at once when the client's address or
browser changed (allauth then sends ``session_client_changed``, as before). "Last seen" is
therefore exact to that interval. The memory of recent sessions is per process and bounded.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from allauth.account.adapter import get_adapter
from allauth.usersessions import app_settings
from django.conf import settings
from django.http import HttpRequest, HttpResponse

REMEMBERED_SESSIONS = 10_000


class UserSessionActivityMiddleware:
    """Replaces ``allauth.usersessions.middleware.UserSessionsMiddleware`` (same place)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.interval = float(getattr(settings, "USERSESSIONS_ACTIVITY_SECONDS", 300))
        # session key -> (monotonic time recorded, (ip, user agent) recorded)
        self._recorded: OrderedDict[str, tuple[float, tuple[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        key = session.session_key if session is not None else None
        if app_settings.TRACK_ACTIVITY and key and request.user.is_authenticated:
            client = (
                get_adapter().get_client_ip(request),
                request.META.get("HTTP_USER_AGENT", ""),
            )
            if self._due(key, client):
                from allauth.usersessions.models import UserSession

                UserSession.objects.create_from_request(request)
        return self.get_response(request)

    def _due(self, key: str, client: tuple[str, str]) -> bool:
        """Whether to record now (and remember that it was)."""
        now = time.monotonic()
        with self._lock:
            seen = self._recorded.get(key)
            if seen is not None and seen[1] == client and now - seen[0] < self.interval:
                self._recorded.move_to_end(key)
                return False
            self._recorded[key] = (now, client)
            self._recorded.move_to_end(key)
            while len(self._recorded) > REMEMBERED_SESSIONS:
                self._recorded.popitem(last=False)
            return True
