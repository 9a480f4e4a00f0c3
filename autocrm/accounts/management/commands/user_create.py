"""``manage.py user_create --email x@y [--password P] [--name N] [--tenant SLUG --role ROLE]``.

Without --password the password is prompted for (twice) on a terminal. The password must pass
the configured password validators, like a password chosen in the web UI."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from autocrm.accounts import services
from autocrm.accounts.management.commands._common import tenant_by_slug, validation_message
from autocrm.accounts.models import Role, User
from autocrm.core.actors import Actor


class Command(BaseCommand):
    help = "Create a user, optionally with a role in a tenant."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="Prompted for when omitted (on a terminal)")
        parser.add_argument("--name", default="")
        parser.add_argument("--tenant", help="Slug of a tenant to add the user to")
        parser.add_argument("--role", choices=Role.values, help="Role in --tenant")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["tenant"]) != bool(options["role"]):
            raise CommandError("--tenant and --role go together.")
        tenant = tenant_by_slug(options["tenant"]) if options["tenant"] else None
        password = options["password"]
        if password is None:
            password = self._prompt_password()
        try:
            validate_password(password, User(email=options["email"], name=options["name"]))
            with transaction.atomic():
                user = services.user_create(
                    email=options["email"], password=password, name=options["name"]
                )
                if tenant is not None:
                    services.membership_create(
                        tenant=tenant,
                        actor=Actor.system("user_create"),
                        user=user,
                        role=options["role"],
                    )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        where = f" as {options['role']} of '{tenant.slug}'" if tenant else ""
        self.stdout.write(f"Created user {user.email}{where}.")

    def _prompt_password(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError("Pass --password, or run on a terminal to be prompted.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return first
