"""``manage.py migrate`` applies migrations as the owner role unless --database is given.

The runtime role has no DDL rights, so migrating through it would fail half way; the owner
role owns the schema. Django's own command does the work."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate


class Command(DjangoMigrate):
    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        for action in parser._actions:
            if action.dest == "database":
                action.default = "owner"
