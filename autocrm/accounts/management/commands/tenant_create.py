"""``manage.py tenant_create --slug acme --name "Acme" [--owner-email me@acme.example]``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from autocrm.accounts import services
from autocrm.accounts.management.commands._common import user_by_email, validation_message
from autocrm.core.actors import Actor


class Command(BaseCommand):
    help = "Create a tenant; with --owner-email, that existing user becomes its owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="URL name: /<slug>/ (a-z, 0-9, -)")
        parser.add_argument("--name", required=True, help="Display name of the organisation")
        parser.add_argument("--owner-email", help="An existing user who becomes the owner")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = user_by_email(options["owner_email"]) if options["owner_email"] else None
        try:
            tenant = services.tenant_create(
                actor=Actor.system("tenant_create"),
                slug=options["slug"],
                name=options["name"],
                owner=owner,
            )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        suffix = f" owned by {owner.email}" if owner else ""
        self.stdout.write(f"Created tenant '{tenant.slug}' ({tenant.name}){suffix}.")
