"""IMAP IDLE: new mail within seconds where the server offers it.

The watcher (``manage.py imap_idle``, one process beside the worker) keeps one connection
per IMAP inbox waiting in IDLE. When the server announces new mail it queues the same
``inboxes.imap_fetch`` job the poller queues; the fetch does the importing. It never imports
itself, so losing a push (a reconnect, the watcher not running) only delays mail until the
next minute's poll. Servers without IDLE are left to the poller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog
from django.conf import settings
from django.db import close_old_connections

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.imap import IMAP_ERRORS, ImapConfig, describe, imap_connect
from autocrm.inboxes.models import Inbox

logger = structlog.get_logger(__name__)

RECONNECT_AFTER = 30.0  # seconds after a failure; the poller covers the gap
NO_IDLE = "no_idle"


def _config(tenant_id: int, inbox_id: int) -> ImapConfig | None:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    with tenant_context(tenant):
        inbox = Inbox.objects.filter(tenant=tenant, pk=inbox_id, imap_enabled=True).first()
        return ImapConfig.of(inbox) if inbox is not None else None


def idle_watch(
    *,
    tenant_id: int,
    inbox_id: int,
    stop: threading.Event,
    on_new_mail: Callable[[], object],
    idle_seconds: float | None = None,
) -> str:
    """Wait in IDLE on the inbox's folder until ``stop`` is set, calling ``on_new_mail``
    for every announcement of new mail. Returns why it ended: "stopped", ``NO_IDLE`` (the
    server does not offer it) or "disabled" (the inbox no longer fetches by IMAP)."""
    wait = idle_seconds or settings.IMAP_IDLE_SECONDS
    while not stop.is_set():
        config = _config(tenant_id, inbox_id)
        close_old_connections()
        if config is None:
            return "disabled"
        try:
            with imap_connect(config) as box:
                if "IDLE" not in box.client.capabilities:
                    return NO_IDLE
                box.folder.set(config.folder, readonly=True)
                while not stop.is_set():
                    # Short polls inside one IDLE command, so a stop is seen within a second.
                    box.idle.start()
                    try:
                        deadline = time.monotonic() + wait
                        pushed = False
                        while not stop.is_set() and time.monotonic() < deadline and not pushed:
                            lines = box.idle.poll(timeout=1.0)
                            pushed = any(b"EXISTS" in line for line in lines)
                    finally:
                        box.idle.stop()
                    if pushed:
                        on_new_mail()
        except IMAP_ERRORS as exc:
            logger.warning("imap.idle_failed", inbox=inbox_id, error=describe(exc))
            stop.wait(RECONNECT_AFTER)
    return "stopped"
