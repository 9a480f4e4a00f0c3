"""``python -m bench.profile_page [queue|ticket] [--requests N] [--profile]``: the CPU one
workspace page costs in this process, through the whole Django stack (middleware, the
session cookie, the view and its template), on the bench data set of the workspace suite.

Process CPU per request is what the code costs whatever the machine's load, so before/after
comparisons of a change hold on a busy host where wall times do not. ``--profile`` prints
cProfile's top functions by cumulative and own time; ``--sql`` the statements of one
request. Uses the running bench database (``make bench SUITES=workspace`` built it; with
``AUTOCRM_VAR_DIR`` pointing where it lives); the 50 messages it adds to the bench ticket,
like the suite does, are trimmed by the next bench run.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from bench.suites import workspace


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_page")
    parser.add_argument("page", choices=["queue", "ticket", "counts"])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sql", action="store_true")
    args = parser.parse_args()
    workspace._setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench import tickets as tb

    tenant = tb.big_tenant()
    agent, ticket = workspace._agent_and_ticket(tenant)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(agent)
    assert settings.SESSION_COOKIE_NAME in client.cookies
    path = {
        "queue": f"/{tenant.slug}/agent/?view=all",
        "ticket": f"/{tenant.slug}/agent/tickets/{ticket.number}/",
        "counts": f"/{tenant.slug}/agent/counts/?view=all",
    }[args.page]

    def get() -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")

    for _ in range(10):
        get()
    if args.sql:
        with CaptureQueriesContext(connection) as captured:
            get()
        for query in captured.captured_queries:
            print(f"{query['time']:>6} {query['sql'][:300]}")
        print(f"{len(captured.captured_queries)} statements")
    # Process CPU time, not wall time: waits for PostgreSQL (and a busy machine) do not count.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for _ in range(args.requests):
        get()
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(
        f"{path}: {args.requests} requests, process CPU {cpu / args.requests * 1000:.2f} ms "
        f"per request, wall {wall / args.requests * 1000:.2f} ms"
    )
    if profiler:
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
