"""The demo tenant's knowledge base (``manage.py seed_demo``): a few published articles that
answer the demo tickets, and one internal article, so the help centre, its search and the
agents' KB have something to show. Only while the tenant has no category yet."""

from __future__ import annotations

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.knowledge import selectors, services
from autocrm.knowledge.models import State, Visibility

# category -> [(title, markdown body, tags, visibility)]
ARTICLES: dict[str, list[tuple[str, str, list[str], str]]] = {
    "Billing": [
        (
            "Export all your invoices at once",
            "You can download every invoice of a year as one ZIP file.\n\n"
            "1. Open **Account → Billing**.\n"
            "2. Choose the year under *Invoices*.\n"
            "3. Click **Download all**.\n\n"
            "> **Tip:** the ZIP holds a PDF per invoice and a CSV summary for your accountant.",
            ["invoices", "export"],
            Visibility.PUBLIC,
        ),
        (
            "Get a refund for a double charge",
            "A payment that went through twice is refunded within five working days.\n\n"
            "Send us the invoice number and the last four digits of the card; we refund "
            "the second charge to the same card. You get an email when the refund is on "
            "its way.",
            ["refund", "payments"],
            Visibility.PUBLIC,
        ),
    ],
    "Account and sign-in": [
        (
            "Reset your password",
            "On the sign-in page choose **Forgot your password?** and enter your email "
            "address. The reset link is valid for three days.\n\n"
            "## The email does not arrive\n\n"
            "- Check the spam folder.\n"
            "- Ask your IT team whether mail from our domain is blocked.\n"
            "- Still nothing after ten minutes? Submit a request and we help you by phone.",
            ["password", "login"],
            Visibility.PUBLIC,
        ),
        (
            "Set up the VPN client",
            "Install the VPN client from the *Downloads* page and sign in with your "
            "company account.\n\n"
            "## The connection drops every few minutes\n\n"
            "Update the client to version 5.2 or later (Help → About shows your version) "
            "and turn off *Wi-Fi power saving* in your laptop's network settings.",
            ["vpn", "network"],
            Visibility.PUBLIC,
        ),
    ],
    "Internal procedures": [
        (
            "Hardware emergencies in the offices",
            "Smoke, fire or water near equipment: tell the customer to unplug it only if "
            "safe, call facilities on extension 555, then set the ticket to *urgent* and "
            "assign it to the Support team lead.",
            ["hardware", "safety"],
            Visibility.INTERNAL,
        ),
    ],
}


def seed(*, tenant: Tenant, actor: Actor) -> list[str]:
    if selectors.category_list(tenant=tenant, actor=actor).exists():
        return []
    count = 0
    for position, (category_name, articles) in enumerate(ARTICLES.items()):
        category = services.category_create(
            tenant=tenant, actor=actor, name=category_name, position=position
        )
        for title, body, tags, visibility in articles:
            services.article_create(
                tenant=tenant,
                actor=actor,
                title=title,
                body=body,
                state=State.PUBLISHED,
                visibility=visibility,
                category_id=category.pk,
                tags=tags,
            )
            count += 1
    return [f"{len(ARTICLES)} knowledge base categories with {count} articles"]
