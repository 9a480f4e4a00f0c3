"""The chat LLM: any OpenAI-compatible endpoint (OpenAI, Azure, Ollama, vLLM, llama.cpp
server) through the ``openai`` SDK, with a timeout, retries, per-tenant token and cost
accounting and a per-tenant monthly budget.

Every failure (not configured, over budget, timeout, connection refused, an HTTP error, an
empty or malformed answer) raises :class:`LLMUnavailable`; callers then produce the
extractive form of the feature and log why (never a 5xx).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog
from django.conf import settings

from autocrm.ai.providers.errors import AIConfigurationError, LLMUnavailable

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ChatResult:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: float
    latency_ms: float


def llm_configured() -> bool:
    return bool(settings.AI_LLM_BASE_URL)


def _client():  # type: ignore[no-untyped-def]
    from openai import OpenAI

    if not settings.AI_LLM_MODEL:
        raise AIConfigurationError(
            "AI_LLM_BASE_URL is set but AI_LLM_MODEL is not: name the model."
        )
    return OpenAI(
        base_url=settings.AI_LLM_BASE_URL,
        api_key=settings.AI_LLM_API_KEY or "none",
        timeout=settings.AI_LLM_TIMEOUT,
        max_retries=settings.AI_LLM_MAX_RETRIES,
    )


def cost_of(prompt_tokens: int, completion_tokens: int) -> float:
    """US dollars at the configured prices per million tokens."""
    return (
        prompt_tokens * settings.AI_LLM_PRICE_INPUT
        + completion_tokens * settings.AI_LLM_PRICE_OUTPUT
    ) / 1_000_000


def chat(messages: list[dict[str, str]], *, max_tokens: int = 600) -> ChatResult:
    """One chat completion, or LLMUnavailable. Budget and accounting are the caller's
    (autocrm.ai.services.usage), which knows the tenant."""
    if not llm_configured():
        raise LLMUnavailable("no LLM configured (AI_LLM_BASE_URL)")
    from openai import OpenAIError

    started = time.perf_counter()
    try:
        response = _client().chat.completions.create(
            model=settings.AI_LLM_MODEL,
            messages=messages,
            max_tokens=max_tokens,
            temperature=0.2,
        )
    except AIConfigurationError:
        raise
    except (OpenAIError, ValueError) as exc:
        raise LLMUnavailable(f"LLM call failed: {type(exc).__name__}: {exc}") from exc
    latency_ms = (time.perf_counter() - started) * 1000
    try:
        text = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError) as exc:
        raise LLMUnavailable("LLM answer has no message") from exc
    if not isinstance(text, str) or not text.strip():
        raise LLMUnavailable("LLM answer is empty")
    usage = getattr(response, "usage", None)
    prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
    return ChatResult(
        text=text.strip(),
        model=str(getattr(response, "model", "") or settings.AI_LLM_MODEL),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=cost_of(prompt_tokens, completion_tokens),
        latency_ms=latency_ms,
    )
