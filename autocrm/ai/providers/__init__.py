"""AI providers: sentence embeddings (local ONNX or an OpenAI-compatible endpoint) and an
OpenAI-compatible chat LLM. Chosen by settings (AI_EMBEDDINGS, AI_LLM_*); see docs/ai.md."""
