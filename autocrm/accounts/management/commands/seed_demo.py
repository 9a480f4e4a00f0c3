"""``manage.py seed_demo [--force]``: the demo tenant and its sign-ins, for development.

Creates tenant ``demo`` ("Demo Company") and four users sharing the password
``demo-password``: admin@demo.example (owner: the owner role includes every admin right, and
a tenant needs an owner anyway), agent1@ and agent2@demo.example (agents) and
customer@demo.example (customer), the email inbox support@demo.example, a support team with
office hours and SLA policies, two companies, a small knowledge base and, while the tenant
has no ticket yet, a handful of tickets with conversations so the agent workspace has
something to show; then two macros, a sales pipeline with deals and activities, the admin's
calendar (calls, meetings and tasks around today), and forty
solved, categorised tickets with a triage model trained on them (the AI features' history).
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


# (subject, requester email, requester name, priority, tags, first message, agent reply, note)
DEMO_TICKETS: tuple[tuple[str, str, str, str, tuple[str, ...], str, str, str], ...] = (
    (
        "Printer on fire in the Berlin office",
        "customer@demo.example",
        "Casey Customer",
        "urgent",
        ("hardware",),
        "The printer next to the kitchen is smoking. Please help!",
        "",
        "Facilities say the printer is unplugged now; a technician comes tomorrow.",
    ),
    (
        "Refund for a double charge",
        "pat.buyer@example.net",
        "Pat Buyer",
        "high",
        ("billing", "vip"),
        "I was charged twice for invoice 2026-114. Could you refund one of them?",
        "Sorry about that, Pat: I have asked billing to refund the second charge.",
        "",
    ),
    (
        "How do I export my invoices?",
        "customer@demo.example",
        "Casey Customer",
        "low",
        ("billing",),
        "Is there a way to download all of this year's invoices at once?",
        "",
        "",
    ),
    (
        "Cannot log in to the portal",
        "sam.smith@example.org",
        "Sam Smith",
        "normal",
        ("login",),
        "The password reset e-mail never arrives. I checked the spam folder too.",
        "",
        "Mail logs show a bounce from their server; asked IT to look.",
    ),
    (
        "VPN drops every ten minutes",
        "pat.buyer@example.net",
        "Pat Buyer",
        "high",
        ("network",),
        "Since Monday the VPN disconnects every ten minutes on my laptop.",
        "Thanks Pat. Which client version do you run? It is under Help > About.",
        "",
    ),
)


def _demo_configuration(tenant: Tenant, agent_ids: list[int]) -> list[str]:
    """Routing, companies and the knowledge base, each seeded by its own app's ``demo``
    module (and only while that part is empty), before the tickets so that these are routed,
    get SLA timers and link to their companies."""
    from autocrm.crm import demo as crm_demo
    from autocrm.knowledge import demo as knowledge_demo
    from autocrm.routing import demo as routing_demo

    with tenant_context(tenant):
        return [
            *routing_demo.seed(tenant=tenant, actor=SEED, agent_ids=agent_ids),
            *crm_demo.seed(tenant=tenant, actor=SEED),
            *knowledge_demo.seed(tenant=tenant, actor=SEED),
        ]


def _demo_work(tenant: Tenant, agent_ids: list[int], admin_id: int) -> list[str]:
    """Macros, the sales pipeline, the admin's calendar and the triage history, each by its
    own app's ``demo``
    module and only while that part is empty. After the open tickets: the triage history
    is solved tickets, and ``_demo_tickets`` only runs on a tenant without tickets. The
    worker triages the open tickets after this command, with the model trained here."""
    from autocrm.ai import demo as ai_demo
    from autocrm.crm import demo as crm_demo
    from autocrm.routing.selectors import team_list
    from autocrm.tickets import demo as tickets_demo

    with tenant_context(tenant):
        team = team_list(tenant=tenant, actor=SEED).filter(name="Support").first()
        return [
            *_demo_customer_contact(tenant),
            *tickets_demo.seed(tenant=tenant, actor=SEED),
            *crm_demo.seed_sales(tenant=tenant, actor=SEED, owner_ids=agent_ids),
            *crm_demo.seed_calendar(tenant=tenant, actor=SEED, owner_id=admin_id),
            *ai_demo.seed(tenant=tenant, actor=SEED, team_id=team.pk if team else None),
        ]


def _demo_customer_contact(tenant: Tenant) -> list[str]:
    """The demo customer's sign-in is linked to their contact (the requester of the demo's
    tickets), as signing up in the help centre does, so "My requests" lists them."""
    from autocrm.crm import services as crm_services
    from autocrm.crm.models import Contact

    email = next(e for e, _, role in DEMO_USERS if role == Role.CUSTOMER)
    user = User.objects.get(email__lower=email)
    if Contact.objects.filter(tenant=tenant, user=user).exists():
        return []
    contact, _ = crm_services.contact_get_or_create(
        tenant=tenant, actor=SEED, email=user.email, name=user.name
    )
    crm_services.contact_link_user(tenant=tenant, actor=SEED, contact=contact, user=user)
    return [f"{email}'s contact linked to the sign-in"]


def _demo_tickets(tenant: Tenant, agent: User) -> int:
    """A few tickets for the workspace to show, once: only while the tenant has none, so a
    re-run never duplicates them and a demo that people have worked on is left alone. The
    tickets app sits above accounts; this command seeds the whole demo, so it imports it
    here."""
    from autocrm.routing.selectors import team_list
    from autocrm.tickets import selectors as ticket_selectors
    from autocrm.tickets import services as ticket_services
    from autocrm.tickets.query import TicketFilters

    agent_actor = Actor.for_user(agent, role=Role.AGENT, tenant_id=tenant.pk)
    with tenant_context(tenant):
        if ticket_selectors.ticket_list(
            tenant=tenant, actor=SEED, filters=TicketFilters(), limit=1
        ).items:
            return 0
        team = team_list(tenant=tenant, actor=SEED).filter(name="Support").first()
        for subject, email, name, priority, tags, body, reply, note in DEMO_TICKETS:
            ticket = ticket_services.ticket_create(
                tenant=tenant,
                actor=SEED,
                subject=subject,
                body=body,
                requester_email=email,
                requester_name=name,
                priority=priority,
                tags=tags,
                channel="web",
                team_id=team.pk if team else None,
            )
            if note:
                ticket_services.ticket_message_add(
                    tenant=tenant, actor=agent_actor, ticket_id=ticket.pk, body=note, public=False
                )
            if reply:
                ticket_services.ticket_message_add(
                    tenant=tenant, actor=agent_actor, ticket_id=ticket.pk, body=reply
                )
    return len(DEMO_TICKETS)


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
            agents = [
                User.objects.get(email__lower=email).pk
                for email, _, role in DEMO_USERS
                if role == Role.AGENT
            ]
            created += _demo_configuration(tenant, agents)
            agent = User.objects.get(email__lower=DEMO_USERS[1][0])
            if count := _demo_tickets(tenant, agent):
                created.append(f"{count} tickets")
            admin = User.objects.get(email__lower=DEMO_USERS[0][0])
            created += _demo_work(tenant, agents, admin.pk)
        if created:
            self.stdout.write("Demo data created: " + ", ".join(created) + ".")
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        self.stdout.write(
            f"Sign in at {settings.SITE_URL}/accounts/login/ as "
            f"{', '.join(u[0] for u in DEMO_USERS)} with password "
            f"'{DEMO_PASSWORD}'."
        )
