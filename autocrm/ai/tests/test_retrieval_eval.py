from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from autocrm.ai.models import Chunk
from autocrm.ai.retrieval_eval import metrics
from autocrm.core.models import Tenant

CORPUS = [
    {"id": "pw", "title": "Resetting your password", "body": "Open Settings and click Reset."},
    {"id": "ship", "title": "Delivery times", "body": "Parcels arrive within three days."},
    {"id": "pay", "title": "Payment methods", "body": "We accept Visa, PayPal and SEPA."},
]
QUERIES = [
    {"query": "I forgot my login", "relevant_ids": ["pw"]},
    {"query": "when does my package come", "relevant_ids": ["ship"]},
    {"query": "SEPA", "relevant_ids": ["pay"]},
]


def _jsonl(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_metrics_by_hand() -> None:
    result = metrics([(["a", "b", "c"], {"b"}), (["x", "y"], {"z"})], k=2)
    assert result == {"recall_at_k": 0.5, "mrr_at_10": 0.25, "ndcg_at_10": 0.3155}


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["hybrid", "fts", "vector"])
def test_the_command_prints_the_metrics_and_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    tenants = Tenant.objects.count()
    call_command(
        "ai_eval_retrieval",
        "--corpus",
        str(_jsonl(tmp_path / "c.jsonl", CORPUS)),
        "--queries",
        str(_jsonl(tmp_path / "q.jsonl", QUERIES)),
        "--k",
        "1",
        "--mode",
        mode,
    )
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"recall_at_k", "mrr_at_10", "ndcg_at_10", "p95_ms"}
    if mode != "fts":
        assert result["recall_at_k"] == 1.0
    else:
        assert result["recall_at_k"] == pytest.approx(1 / 3, abs=1e-3)  # only "SEPA" matches
    assert Tenant.objects.count() == tenants
    assert not Chunk.objects.exists()


def test_bad_input_is_a_command_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\nnot json\n')
    with pytest.raises(CommandError, match=r"bad\.jsonl:1: needs the keys id, title, body"):
        call_command("ai_eval_retrieval", "--corpus", str(bad), "--queries", str(bad))
    with pytest.raises(CommandError, match="no such file"):
        call_command("ai_eval_retrieval", "--corpus", str(tmp_path / "x"), "--queries", str(bad))
