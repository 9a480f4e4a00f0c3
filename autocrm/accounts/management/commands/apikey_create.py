"""``manage.py apikey_create --tenant SLUG --name NAME [--scope read|write|admin]``.

Prints only the raw key on stdout (it is shown once and stored hashed), so it can be captured:
``KEY=$(manage.py apikey_create --tenant acme --name ci)``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from autocrm.accounts import services
from autocrm.accounts.management.commands._common import tenant_by_slug, validation_message
from autocrm.accounts.models import ApiKeyScope
from autocrm.core.actors import Actor


class Command(BaseCommand):
    help = "Create an API key for a tenant and print it (only the key, on stdout)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Tenant slug")
        parser.add_argument("--name", required=True, help="What the key is for")
        parser.add_argument("--scope", choices=ApiKeyScope.values, default=ApiKeyScope.READ)

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        try:
            key, raw_key = services.api_key_create(
                tenant=tenant,
                actor=Actor.system("apikey_create"),
                name=options["name"],
                scope=options["scope"],
            )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        self.stderr.write(
            f"API key '{key.name}' ({key.scope}) for '{tenant.slug}', prefix "
            f"{key.prefix}. It is shown once; store it now."
        )
        self.stdout.write(raw_key)
