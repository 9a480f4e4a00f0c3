"""Timing helpers: run a callable repeatedly and summarise the latencies."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def summary(samples_ms: list[float]) -> dict[str, Any]:
    data = np.array(samples_ms, dtype=np.float64)
    p50, p95, p99 = np.percentile(data, [50, 95, 99]) if len(data) else (0.0, 0.0, 0.0)
    return {
        "n": len(samples_ms),
        "p50_ms": round(float(p50), 3),
        "p95_ms": round(float(p95), 3),
        "p99_ms": round(float(p99), 3),
        "mean_ms": round(float(data.mean()), 3) if len(data) else 0.0,
        "min_ms": round(float(data.min()), 3) if len(data) else 0.0,
        "max_ms": round(float(data.max()), 3) if len(data) else 0.0,
    }


def measure(fn: Callable[[], Any], *, warmup: int, iterations: int) -> list[float]:
    """Milliseconds of ``iterations`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0)
    return samples


def measure_pair(
    first: Callable[[], Any], second: Callable[[], Any], *, warmup: int, iterations: int
) -> tuple[list[float], list[float]]:
    """Two variants interleaved, so drifting machine load hits both alike, and in
    alternating order (A B, B A, ...): whichever runs second finds the first one's pages
    and plans warm, which would otherwise always favour the same variant."""
    for _ in range(warmup):
        first()
        second()
    a: list[float] = []
    b: list[float] = []

    def timed(fn: Callable[[], Any]) -> float:
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1000.0

    for i in range(iterations):
        if i % 2 == 0:
            a.append(timed(first))
            b.append(timed(second))
        else:
            b.append(timed(second))
            a.append(timed(first))
    return a, b
