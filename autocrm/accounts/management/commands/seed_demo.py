"""``manage.py seed_demo [--force]``: the demo tenant and its sign-ins, for development.

Creates tenant ``demo`` ("Demo Company") and four users sharing the password
``demo-password``: admin@demo.example (owner: the owner role includes every admin right, and
a tenant needs an owner anyway), agent1@ and agent2@demo.example (agents) and
customer@demo.example (customer), and the email inbox support@demo.example.
Idempotent: what exists is left as it is (passwords are
not reset). Refuses to run with DEBUG off unless --force, since the password is public."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from autocrm.accounts import selectors, services
from autocrm.accounts.models import Role, User
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context

SEED = Actor.system("seed_demo")

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Company"
DEMO_PASSWORD = "demo-password"  # public by design: DEBUG only (see --force)
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("admin@demo.example", "Demo Admin", Role.OWNER),
    ("agent1@demo.example", "Alex Agent", Role.AGENT),
    ("agent2@demo.example", "Sam Agent", Role.AGENT),
    ("customer@demo.example", "Casey Customer", Role.CUSTOMER),
)


DEMO_INBOX = "support@demo.example"


def _demo_inbox(tenant: Tenant) -> bool:
    """The demo tenant's email inbox (so mail can be piped in: docs/email.md). The inboxes
    app sits above accounts; this command seeds the whole demo, so it imports it here."""
    from autocrm.inboxes import selectors as inbox_selectors
    from autocrm.inboxes import services as inbox_services

    with tenant_context(tenant):
        if inbox_selectors.inbox_list(tenant=tenant, actor=SEED).filter(address=DEMO_INBOX):
            return False
        inbox_services.inbox_create(
            tenant=tenant,
            actor=SEED,
            name="Support",
            address=DEMO_INBOX,
            signature="The Demo Company support team",
        )
    return True


class Command(BaseCommand):
    help = "Create the demo tenant and demo users (idempotent; DEBUG only unless --force)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo password is public!)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates accounts with a public password and only runs "
                "with DEBUG=1; pass --force to run it anyway."
            )
        created: list[str] = []
        with transaction.atomic():
            tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
            if tenant is None:
                tenant = services.tenant_create(actor=SEED, slug=DEMO_SLUG, name=DEMO_NAME)
                created.append(f"tenant '{DEMO_SLUG}'")
            for email, name, role in DEMO_USERS:
                user = User.objects.filter(email__lower=email.lower()).first()
                if user is None:
                    user = services.user_create(email=email, password=DEMO_PASSWORD, name=name)
                    created.append(f"user {email}")
                with tenant_context(tenant):
                    membership = selectors.membership_get(tenant=tenant, user_id=user.pk)
                if membership is None:
                    services.membership_create(tenant=tenant, actor=SEED, user=user, role=role)
                    created.append(f"{email} as {role}")
            if _demo_inbox(tenant):
                created.append(f"inbox {DEMO_INBOX}")
        if created:
            self.stdout.write("Demo data created: " + ", ".join(created) + ".")
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        self.stdout.write(
            f"Sign in at {settings.SITE_URL}/accounts/login/ as "
            f"{', '.join(u[0] for u in DEMO_USERS)} with password "
            f"'{DEMO_PASSWORD}'."
        )
