"""Tenant context: which tenant the current database transaction may see.

``tenant_context`` is used by the request middleware, tasks and websocket consumers. It opens
(or joins) a transaction and sets ``app.tenant_id`` transaction-locally, so the value can never
leak to another request through a pooled connection. ``system_context`` is the one named,
audited way to work across tenants: it uses the owner connection (BYPASSRLS).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import structlog
from django.db import connections, transaction

if TYPE_CHECKING:
    from autocrm.core.models import Tenant

logger = structlog.get_logger(__name__)

_current_tenant: contextvars.ContextVar[Tenant | None] = contextvars.ContextVar(
    "autocrm_tenant", default=None
)

SYSTEM_DB = "owner"


def current_tenant() -> Tenant | None:
    return _current_tenant.get()


def _set_db_context(using: str, tenant_id: int | None, user_id: int | None) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true)",
            ["" if tenant_id is None else str(tenant_id), "" if user_id is None else str(user_id)],
        )


def _get_db_context(using: str) -> tuple[int | None, int | None]:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.tenant_id', true), current_setting('app.user_id', true)"
        )
        tenant, user = cursor.fetchone()
    return (int(tenant) if tenant else None, int(user) if user else None)


@contextmanager
def tenant_context(
    tenant: Tenant, *, user_id: int | None = None, using: str = "default"
) -> Iterator[Tenant]:
    """Run the block in a transaction where only ``tenant``'s rows exist."""
    # Outermost (a request, a job): the settings are transaction-local and vanish at commit,
    # so there is nothing to read first or restore after (two queries saved per request).
    outermost = not connections[using].in_atomic_block
    with transaction.atomic(using=using):
        previous = (None, None) if outermost else _get_db_context(using)
        _set_db_context(using, tenant.pk, user_id)
        token = _current_tenant.set(tenant)
        try:
            # bound_contextvars restores the outer value on exit, so a nested context (a job
            # working through several tenants) leaves the outer one's logs tagged.
            with structlog.contextvars.bound_contextvars(tenant=tenant.slug):
                yield tenant
        finally:
            _current_tenant.reset(token)
        # Only on a normal exit: an exception rolls this atomic block back, settings included
        # (and in an aborted transaction set_config would fail and hide the real error).
        if not outermost and not connections[using].needs_rollback:
            _set_db_context(using, *previous)


@contextmanager
def user_context(user_id: int, *, using: str = "default") -> Iterator[None]:
    """No tenant, but the user's own rows (their memberships across tenants) are readable."""
    # Outermost (a signed-in request outside a tenant): nothing to read first or restore
    # after, as in tenant_context (two statements saved per request).
    outermost = not connections[using].in_atomic_block
    with transaction.atomic(using=using):
        previous = (None, None) if outermost else _get_db_context(using)
        _set_db_context(using, None, user_id)
        yield
        if not outermost and not connections[using].needs_rollback:  # see tenant_context
            _set_db_context(using, *previous)


@contextmanager
def system_context(reason: str) -> Iterator[str]:
    """Cross-tenant work (sweepers, provisioning). Yields the DB alias to use with
    ``.using(alias)``; every entry is logged and recorded in SystemContextLog."""
    from autocrm.core.models import SystemContextLog

    if not reason.strip():
        raise ValueError("system_context needs a reason")
    logger.info("system_context.enter", reason=reason)
    with transaction.atomic(using=SYSTEM_DB):
        SystemContextLog.objects.using(SYSTEM_DB).create(reason=reason[:200])
        yield SYSTEM_DB
