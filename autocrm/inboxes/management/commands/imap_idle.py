"""``manage.py imap_idle``: the IMAP IDLE watcher (autocrm/inboxes/idle.py), one process
beside the worker. Without it, IMAP inboxes are still fetched every minute."""

from __future__ import annotations

import signal
import threading
from functools import partial
from typing import Any

from django.core.management.base import BaseCommand

from autocrm.inboxes.idle import NO_IDLE, idle_watch
from autocrm.inboxes.tasks import imap_fetch_defer, imap_inboxes

REFRESH = 60.0  # seconds between looks for inboxes added, changed or removed


class Command(BaseCommand):
    help = "Wait in IMAP IDLE on every IMAP inbox and queue a fetch when mail arrives."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        watchers: dict[tuple[int, int], tuple[threading.Thread, threading.Event]] = {}
        # Servers that said they have no IDLE are not asked again (until a restart).
        without_idle: set[tuple[int, int]] = set()

        def watch(key: tuple[int, int], own_stop: threading.Event) -> None:
            tenant_id, inbox_id = key
            ended = idle_watch(
                tenant_id=tenant_id,
                inbox_id=inbox_id,
                stop=own_stop,
                on_new_mail=partial(imap_fetch_defer, tenant_id=tenant_id, inbox_id=inbox_id),
            )
            if ended == NO_IDLE:
                without_idle.add(key)

        while not stop.is_set():
            wanted = set(imap_inboxes()) - without_idle
            for key, (thread, own_stop) in list(watchers.items()):
                if key not in wanted or not thread.is_alive():
                    own_stop.set()
                    del watchers[key]
            for key in wanted - set(watchers):
                own_stop = threading.Event()
                thread = threading.Thread(
                    target=watch, args=(key, own_stop), name=f"imap-idle-{key[1]}", daemon=True
                )
                thread.start()
                watchers[key] = (thread, own_stop)
            self.stdout.write(f"imap_idle: watching {len(watchers)} inbox(es)")
            stop.wait(REFRESH)
        for thread, own_stop in watchers.values():
            own_stop.set()
            thread.join(timeout=5)
