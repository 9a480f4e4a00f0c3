"""Sentiment of a ticket from its embedding: its similarity to short prototype sentences of
angry and of happy customers (the local model needs no sentiment training data; a tenant's
own labels are not collected for this). Positive values: negative sentiment."""

from __future__ import annotations

import functools

import numpy as np

from autocrm.ai.providers.embeddings import embedding_provider

NEGATIVE = (
    "This is unacceptable, I am very angry.",
    "I am frustrated and disappointed with your service.",
    "Terrible experience, nothing works and nobody helps.",
    "I want to complain, this is the third time I write.",
    "Your product is broken and I am furious.",
)
POSITIVE = (
    "Thank you so much, great service!",
    "I love your product, it works perfectly.",
    "Thanks for the quick help, much appreciated.",
    "Everything is fine, just a quick question.",
    "You have been very helpful, thank you.",
)
# Differences smaller than this are neutral.
MARGIN = 0.06


@functools.cache
def _prototypes() -> tuple[np.ndarray, np.ndarray]:
    provider = embedding_provider()
    return provider.embed(list(NEGATIVE)), provider.embed(list(POSITIVE))


def sentiment_of(vector: np.ndarray) -> tuple[str, float]:
    """("negative" | "neutral" | "positive", score): score > 0 leans negative."""
    negative, positive = _prototypes()
    score = float(np.max(negative @ vector) - np.max(positive @ vector))
    if score > MARGIN:
        return "negative", score
    if score < -MARGIN:
        return "positive", score
    return "neutral", score
