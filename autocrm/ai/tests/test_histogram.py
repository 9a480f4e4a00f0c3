"""Latency percentiles from fixed buckets: within a bucket's width of the exact percentile,
and a week's from its days' summed counts."""

from __future__ import annotations

import numpy as np
import pytest

from autocrm.ai import histogram


def _counts(latencies: np.ndarray) -> list[int]:
    counts = histogram.empty()
    for ms in latencies:
        counts[histogram.bucket_of(float(ms))] += 1
    return counts


def test_percentiles_are_within_a_bucket_of_the_exact_ones() -> None:
    rng = np.random.default_rng(0)
    # A day of an LLM endpoint: mostly ~800 ms, a slow tail of timeouts-in-waiting.
    day = np.concatenate([rng.lognormal(np.log(800), 0.4, 950), rng.uniform(4000, 9000, 50)])
    counts = _counts(day)
    assert sum(counts) == 1000
    for q in (0.5, 0.95, 0.99):
        exact = float(np.quantile(day, q))
        assert histogram.quantile(counts, q) == pytest.approx(exact, rel=0.19)


def test_a_weeks_percentile_is_that_of_its_days_calls_together() -> None:
    rng = np.random.default_rng(1)
    days = [rng.lognormal(np.log(300 * (k + 1)), 0.3, 200) for k in range(7)]
    week = histogram.summed(_counts(d) for d in days)
    exact = float(np.quantile(np.concatenate(days), 0.95))
    assert histogram.quantile(week, 0.95) == pytest.approx(exact, rel=0.19)
    # The mean of the days' p95s is not the week's p95.
    mean_of_days = sum(histogram.quantile(_counts(d), 0.95) or 0.0 for d in days) / len(days)
    assert abs(mean_of_days - exact) > 0.19 * exact


def test_edges() -> None:
    assert histogram.quantile(histogram.empty(), 0.95) is None
    assert histogram.bucket_of(0) == 0 and histogram.bucket_of(10) == 0
    assert histogram.bucket_of(10.5) == 1
    assert histogram.bucket_of(10**7) == histogram.SIZE - 1
    slow = histogram.empty()
    slow[-1] = 3  # slower than the last bound: a floor, not an estimate
    assert histogram.quantile(slow, 0.95) == histogram.BOUNDS_MS[-1]
    with pytest.raises(ValueError):
        histogram.CountIn("latency_histogram", histogram.SIZE)
