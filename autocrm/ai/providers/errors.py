from __future__ import annotations


class AIConfigurationError(RuntimeError):
    """A provider setting is missing or wrong: the message says which and how to fix it."""


class LLMUnavailable(RuntimeError):
    """The LLM did not give a usable answer (down, slow, garbage, over budget): callers fall
    back to the extractive form and log it."""
