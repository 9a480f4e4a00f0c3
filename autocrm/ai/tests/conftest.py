from autocrm.ai.tests.llm_server import fake_llm

__all__ = ["fake_llm"]
