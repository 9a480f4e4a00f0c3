"""Benchmarks (``make bench``): see bench/__main__.py and docs/tickets-performance.md."""
