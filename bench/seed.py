"""``python -m bench.seed ARGS``: the seed command of ``bench.seed_command`` with the
project's settings (a module of its own: Django must be set up before models import)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from bench.seed_command import Command

    Command().run_from_argv(["bench.seed", "seed_bench", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
