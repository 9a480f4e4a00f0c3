"""Bench suites beyond tickets: one module per capability, each with ``run(echo) -> int``
writing ``bench/results/<name>.json`` (see ``bench.__main__.SUITES``)."""
