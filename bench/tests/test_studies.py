"""The ADR studies (bench/ai_accuracy_study.py, bench/ai_oos_study.py) drive the product's
classifier from outside; a small run of each fails here when a change to the classifier
leaves them behind (ADR 0060's neighbour block once broke the out-of-scope study unseen)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(module: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env={**os.environ, "AI_EMBEDDING_CACHE_DIR": "", **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _rows(table: str) -> dict[str, list[str]]:
    rows = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and not line.startswith("| variant"):
            rows[cells[0]] = cells[1:]
    return rows


def test_the_accuracy_study_runs_its_variants_on_a_small_sample(tmp_path: Path) -> None:
    out = _run(
        "bench.ai_accuracy_study",
        {
            "ACC_STUDY_PER_CLASS": "12",
            "ACC_STUDY_ONLY": "shipped,on shipped: C,on shipped: + centroid",
            "ACC_STUDY_BASE": "shipped classifier (neighbours: RBF g=5 x1)",
            "ACC_STUDY_RESULTS": str(tmp_path / "results.json"),
        },
    )
    rows = _rows(out)
    assert {"product", "shipped classifier (neighbours: RBF g=5 x1)"} <= set(rows)
    assert len([name for name in rows if name.startswith("on shipped")]) == 3
    for name, cells in rows.items():
        assert 0.3 < float(cells[0]) <= 1.0, (name, cells)  # 77 intents: chance is 0.013
    assert rows["shipped classifier (neighbours: RBF g=5 x1)"][1].startswith("+0.00")


def test_the_out_of_scope_study_runs_every_signal_on_a_small_sample() -> None:
    out = _run("bench.ai_oos_study", {"OOS_STUDY_PER_CLASS": "12", "OOS_STUDY_SEEDS": "101"})
    rows = _rows(out)
    assert "ADR 0057's nine" in rows and "+ all lexical" in rows
    for name, (floor, far, at_90) in rows.items():
        recall, coverage = (float(x) for x in floor.split(" / "))
        assert 0.0 <= recall <= 1.0 and 0.5 < coverage <= 1.0, (name, floor)
        assert 0.0 <= float(far) <= 1.0 and 0.0 <= float(at_90) <= 1.0, name
