"""Small labelled ticket texts for tests (real local model, small inputs)."""

from __future__ import annotations

SAMPLES: dict[str, list[str]] = {
    "login": [
        "I cannot log in to my account",
        "My password does not work anymore",
        "How do I reset my password?",
        "The login page says my credentials are wrong",
        "I am locked out of my account",
        "Two-factor code is not accepted when I sign in",
        "Forgot my password and the reset email never came",
        "Sign in fails with an error",
        "Can't access my account after changing my email",
        "The app logs me out every time",
        "Password reset link has expired",
        "Unable to sign into the dashboard",
    ],
    "billing": [
        "I was charged twice this month",
        "The invoice amount is wrong",
        "Please send me a copy of my invoice",
        "Why did my subscription price go up?",
        "My credit card was billed after I cancelled",
        "How do I update my payment method?",
        "I need a VAT number on my invoice",
        "There is an unknown charge on my statement",
        "Can I pay by bank transfer instead of card?",
        "The payment failed but money left my account",
        "Please change the billing address on my invoices",
        "When will I be charged for the annual plan?",
    ],
    "shipping": [
        "My parcel has not arrived yet",
        "Where is my order?",
        "The tracking number does not work",
        "The package was delivered to the wrong address",
        "How long does delivery take to Canada?",
        "My order arrived damaged",
        "Can I change the delivery address of my order?",
        "The courier says the parcel is lost",
        "Do you ship to Norway?",
        "The delivery is two weeks late",
        "Only half of my order was delivered",
        "Can I pick up the order at a store instead?",
    ],
    "refund": [
        "I want my money back",
        "How do I return a product for a refund?",
        "My refund has not arrived on my card",
        "Can I get a refund for the unused months?",
        "The refund amount is less than I paid",
        "I returned the item but got no refund",
        "Please cancel my order and refund me",
        "How long does a refund take?",
        "Refund request for a broken product",
        "I was promised a refund last week",
        "Can the refund go to a different card?",
        "Do you refund shipping costs?",
    ],
}
HELD_OUT: dict[str, list[str]] = {
    "login": ["I keep getting 'invalid password' when signing in"],
    "billing": ["You billed my card two times for one invoice"],
    "shipping": ["My package still hasn't been delivered"],
    "refund": ["When will I get my money back for the returned shoes?"],
}
UNLIKE_ANYTHING = [
    "What is the best recipe for a chocolate cake?",
    "Who won the football world cup in 1998?",
]


def rows() -> tuple[list[str], list[str]]:
    texts = [t for texts in SAMPLES.values() for t in texts]
    labels = [label for label, texts in SAMPLES.items() for _ in texts]
    return texts, labels
