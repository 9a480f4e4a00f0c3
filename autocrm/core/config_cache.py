"""Per-process caches of a tenant's configuration that stay exact across processes.

Configuration rarely changes and is read on hot paths (custom field definitions on every
ticket write). A service that changes such configuration calls ``tenant_config_changed``
in its transaction, which gives the tenant row a new random ``config_stamp``. Every request
and job loads the tenant row anyway, so ``tenant_config_cached`` compares stamps without a
query: a new stamp (committed, or this transaction's own) misses and reloads; a stamp of a
change that rolled back is never seen again.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

from autocrm.core.models import Tenant

T = TypeVar("T")

_lock = threading.Lock()
_entries: dict[tuple[str, int], tuple[uuid.UUID, object]] = {}


def tenant_config_changed(*, tenant: Tenant) -> None:
    """Mark the tenant's cached configuration stale (call inside the changing transaction;
    ``tenant`` gets the new stamp too, so this request sees its own change)."""
    stamp = uuid.uuid4()
    Tenant.objects.filter(pk=tenant.pk).update(config_stamp=stamp)
    tenant.config_stamp = stamp


def tenant_config_cached(tenant: Tenant, name: str, load: Callable[[], T]) -> T:
    """``load()``'s value for this tenant's current configuration, loaded once per stamp.
    The value is shared between threads: treat it as read-only."""
    key = (name, tenant.pk)
    hit = _entries.get(key)
    if hit is not None and hit[0] == tenant.config_stamp:
        return hit[1]  # type: ignore[return-value]
    value = load()
    with _lock:
        _entries[key] = (tenant.config_stamp, value)
    return value
