"""The demo tenant's triage history (``manage.py seed_demo``): a "Category" field, forty
solved tickets that agents categorised, and a triage model trained on them, so that the
demo's open tickets arrive triaged and the AI dashboard and review queue show real work.

Only while the tenant has no triage model (a re-run, or a demo someone has trained
already, is left alone). The texts are written for the demo company's IT helpdesk; the
tickets go through the ticket services like any other, the model through the same
training service as the periodic job."""

from __future__ import annotations

from autocrm.ai.models import TriageModel
from autocrm.ai.services.triage import CATEGORY_FIELD, triage_model_train
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.tickets import config_selectors, config_services
from autocrm.tickets.models import Status
from autocrm.tickets.services import ticket_create

REQUESTERS = (
    ("pat.buyer@example.net", "Pat Buyer"),
    ("robin.ops@example.net", "Robin Ops"),
    ("kim.finance@example.org", "Kim Finance"),
    ("lee.office@example.org", "Lee Office"),
)

HISTORY: dict[str, tuple[str, ...]] = {
    "account": (
        "I cannot log in since the password change",
        "My account is locked after three attempts",
        "The password reset e-mail never arrives",
        "Two-factor code rejected when I sign in",
        "Please create an account for our new hire",
        "I need admin rights on the shared drive",
        "Sign-in page says my credentials are wrong",
        "How do I change the e-mail address on my account?",
        "The app logs me out every few minutes",
        "Please remove access for a colleague who left",
    ),
    "billing": (
        "We were charged twice for the November invoice",
        "The invoice shows the wrong VAT number",
        "Please send a copy of last month's invoice",
        "Why did our subscription price go up?",
        "Our card was billed after we cancelled the add-on",
        "How do we switch from card to bank transfer?",
        "There is an unknown charge on our statement",
        "We need a purchase order number on the invoice",
        "Refund for the seats we removed in October",
        "The payment failed but the money left our account",
    ),
    "hardware": (
        "The printer on the second floor jams on every page",
        "My laptop battery drains within an hour",
        "The monitor in meeting room B stays black",
        "Keyboard keys stopped working after a coffee spill",
        "The scanner does not show up on my computer",
        "Docking station does not charge the laptop",
        "Replacement mouse needed, the scroll wheel is broken",
        "The projector shows a blue tint",
        "Laptop fan is loud and the case gets very hot",
        "Printer prints blank pages since the toner change",
    ),
    "network": (
        "The VPN disconnects every ten minutes",
        "Wi-Fi in the warehouse keeps dropping",
        "I cannot reach the intranet from home",
        "Video calls freeze in the afternoon",
        "The guest Wi-Fi password does not work",
        "File share is very slow from the Berlin office",
        "Our website returns a DNS error for some customers",
        "VPN client says the certificate has expired",
        "No network on the desk ports in room 4",
        "E-mail sync is slow on the office network",
    ),
}


def seed(*, tenant: Tenant, actor: Actor, team_id: int | None = None) -> list[str]:
    """``team_id``: the team that worked the history (the demo's Support team)."""
    if TriageModel.objects.filter(tenant=tenant).exists():
        return []
    created: list[str] = []
    if not config_selectors.custom_field_list(tenant=tenant, actor=actor).filter(
        key=CATEGORY_FIELD
    ):
        config_services.custom_field_create(
            tenant=tenant,
            actor=actor,
            label="Category",
            key=CATEGORY_FIELD,
            field_type="dropdown",
            options=sorted(HISTORY),
        )
        created.append("a Category field")
    n = 0
    for category, subjects in HISTORY.items():
        for i, subject in enumerate(subjects):
            email, name = REQUESTERS[(n + i) % len(REQUESTERS)]
            ticket_create(
                tenant=tenant,
                actor=actor,
                subject=subject,
                body=f"Hello, {subject[0].lower()}{subject[1:]}. Could you help? Thanks, {name}",
                requester_email=email,
                requester_name=name,
                status=Status.SOLVED,
                channel="web",
                custom_fields={CATEGORY_FIELD: category},
                team_id=team_id,
            )
        n += len(subjects)
    created.append(f"{n} solved, categorised tickets")
    if triage_model_train(tenant=tenant, actor=actor) is not None:
        created.append("a triage model")
    return created
