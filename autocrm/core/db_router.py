"""Models live in one database reached through two roles (aliases).

``default`` (runtime role, RLS applies) serves the application; ``owner`` runs migrations and
the audited system context. Both see the same tables, so every model may be read or written
on either; migrations are applied through ``owner`` only (``manage.py migrate`` defaults to
it, see autocrm/core/management/commands/migrate.py) — the runtime role cannot run DDL.
"""

from __future__ import annotations

from typing import Any


class OwnerMigratesRouter:
    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return True
