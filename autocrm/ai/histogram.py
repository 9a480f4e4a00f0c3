"""Fixed-bucket latency histograms, kept per tenant, feature and day with the LLM usage row.

A day's row holds counts, not calls, so its percentiles are estimated from the histogram:
buckets grow by a factor 2^(1/4) (about 19 %) from 10 ms to 137 s, plus one for anything
slower, so an estimate is off by at most a bucket's width (linear interpolation inside it,
as Prometheus' ``histogram_quantile`` does). Histograms of the same buckets add up, so a
week's or a feature's p95 is the p95 of the summed counts; a mean of daily p95s would not be.

Changing ``BOUNDS_MS`` changes what the stored counts mean: it needs a migration that
re-buckets or clears them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Expression, F
from django.db.models.sql.compiler import SQLCompiler

# Upper bounds (inclusive) in milliseconds; the last bucket is "slower than BOUNDS_MS[-1]".
BOUNDS_MS: tuple[int, ...] = tuple(round(10 * 2 ** (k / 4)) for k in range(56))
SIZE = len(BOUNDS_MS) + 1


def empty() -> list[int]:
    return [0] * SIZE


def bucket_of(ms: float) -> int:
    """The 0-based bucket ``ms`` falls in."""
    return bisect.bisect_left(BOUNDS_MS, ms)


def summed(histograms: Iterable[Sequence[int]]) -> list[int]:
    total = empty()
    for histogram in histograms:
        for i, n in enumerate(histogram[:SIZE]):
            total[i] += n
    return total


def quantile(histogram: Sequence[int], q: float) -> float | None:
    """The estimated ``q`` quantile in ms, or None without counts. In the open-ended last
    bucket it is that bucket's lower bound (a floor, not an estimate)."""
    count = sum(histogram)
    if not count:
        return None
    rank = q * count
    seen = 0
    for i, n in enumerate(histogram):
        if n and seen + n >= rank:
            if i >= len(BOUNDS_MS):
                return float(BOUNDS_MS[-1])
            lower = BOUNDS_MS[i - 1] if i else 0
            return lower + (BOUNDS_MS[i] - lower) * max(0.0, rank - seen) / n
        seen += n
    return float(BOUNDS_MS[-1])


class CountIn(Expression):
    """``field`` with one more count in bucket ``index``, for an UPDATE's SET: the row's
    counters change in the one statement that bumps its calls (no read-modify-write)."""

    def __init__(self, field: str, index: int) -> None:
        super().__init__()
        if not 0 <= index < SIZE:
            raise ValueError(f"no bucket {index}")
        self.counts: Any = F(field)
        self.index = int(index)

    def get_source_expressions(self) -> list[Any]:
        return [self.counts]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        [self.counts] = exprs

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.counts)
        at = self.index + 1  # PostgreSQL arrays count from 1; the index is ours, an int
        sql = f"({column}[:{at - 1}] || ({column}[{at}] + 1) || {column}[{at + 1}:])"
        return sql, (*params, *params, *params)
