"""Bench suite ``kb``: the knowledge base and the help centre (issue 13).

``python -m bench kb`` (``make bench SUITES=kb``) rebuilds the database ``autocrm_bench_kb``
in the embedded server, migrates it, and measures in a child process on it, with
``BENCH_KB_ARTICLES`` articles (default 5,000) in each of 3 locales (en, de, fr: 15,000 rows,
5 % of them internal and 10 % drafts), in 12 categories:

- ``help_home_p95_ms``, ``article_page_p95_ms``, ``search_page_p95_ms``: server-side render
  of the help centre's home, an article page (its view count update included) and the search
  results page (its search-log insert included), through the whole middleware stack
  (Django's test client in the process: no network, no browser);
- ``kb_search_p95_ms``: the ``article_search`` selector alone (full text, ranking, snippets).

Beside each wall-clock time, the CPU time of the same request: ``*_python_cpu_p50_ms`` in
this process (``time.process_time``), ``*_db_cpu_p50_ms`` in the PostgreSQL backends serving
it (``/proc/<pid>/schedstat``), ``*_cpu_p50_ms`` their sum. On a loaded machine the wall
time includes waiting for a core; the CPU time does not, and it shows where the work goes.
The load average during the run is recorded. ``kb_search_typo_*``: the selector on a
misspelt word (typo mode, ADR 0027), no target. ``BENCH_KB_SAMPLES`` (default 300) sets the
samples per page; ``BENCH_KB_REUSE=1`` keeps an already seeded database (profiling
before/after a change without seeding again).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import dataset

DB_NAME = "autocrm_bench_kb"
RESULT = dataset.ROOT / "bench" / "results" / "kb.json"
TARGETS = {  # key -> limit (at most)
    "help_home_p95_ms": 50.0,
    "article_page_p95_ms": 50.0,
    "search_page_p95_ms": 50.0,
    "kb_search_p95_ms": 30.0,
}
LOCALES = ("en", "de", "fr")
WORDS = {
    "en": [
        "account",
        "password",
        "invoice",
        "billing",
        "refund",
        "export",
        "printer",
        "network",
        "login",
        "email",
        "calendar",
        "report",
        "dashboard",
        "integration",
        "webhook",
        "slack",
        "mobile",
        "android",
        "iphone",
        "backup",
        "security",
        "permission",
        "team",
        "contact",
        "import",
        "upload",
        "download",
        "settings",
        "language",
        "plan",
    ],
    "de": [
        "konto",
        "passwort",
        "rechnung",
        "abrechnung",
        "erstattung",
        "export",
        "drucker",
        "netzwerk",
        "anmeldung",
        "kalender",
        "bericht",
        "übersicht",
        "integration",
        "sicherung",
        "sicherheit",
        "berechtigung",
        "team",
        "kontakt",
        "import",
        "hochladen",
        "herunterladen",
        "einstellungen",
        "sprache",
        "tarif",
        "telefon",
        "gerät",
    ],
    "fr": [
        "compte",
        "motdepasse",
        "facture",
        "facturation",
        "remboursement",
        "export",
        "imprimante",
        "réseau",
        "connexion",
        "calendrier",
        "rapport",
        "tableau",
        "intégration",
        "sauvegarde",
        "sécurité",
        "permission",
        "équipe",
        "contact",
        "importer",
        "téléverser",
        "télécharger",
        "paramètres",
        "langue",
        "forfait",
        "mobile",
    ],
}
SYLLABLES = tuple(
    [
        "ka",
        "lo",
        "mi",
        "ne",
        "ru",
        "sa",
        "te",
        "vo",
        "zi",
        "pa",
        "de",
        "fu",
        "go",
        "hi",
        "ja",
        "ke",
        "lu",
        "ma",
        "no",
        "pi",
    ]
)
TAIL_WORDS = 3000  # per locale: product names, error codes, features of a real KB
SAMPLES = int(os.environ.get("BENCH_KB_SAMPLES", "300"))  # per page, after 30 of warm-up


def vocabulary(locale: str) -> list[str]:
    """The locale's topic words, then its tail words (distinct, deterministic)."""
    rng = random.Random(locale)  # noqa: S311 - reproducible data
    tail: set[str] = set()
    while len(tail) < TAIL_WORDS:
        tail.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) + locale[0])
    return WORDS[locale] + sorted(tail)


def _pick(rng: random.Random, words: list[str]) -> str:
    # Zipf-like: a few topic words are everywhere, most tail words are rare.
    return words[(int(rng.paretovariate(0.3)) - 1) % len(words)]


def p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20)[18], 3)


def run(echo: Callable[[str], None]) -> int:
    from autocrm.core import embedded_db

    admin = embedded_db.server_up(embedded_db.default_data_dir())
    echo(f"building {DB_NAME}")
    reuse = os.environ.get("BENCH_KB_REUSE") == "1"
    embedded_db.provision(admin, DB_NAME, recreate=not reuse)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(AUTOCRM_DB_NAME=DB_NAME, DEBUG="1")
    subprocess.run(  # noqa: S603 - our manage.py with fixed arguments
        [sys.executable, str(dataset.ROOT / "manage.py"), "migrate", "--verbosity", "0"],
        cwd=dataset.ROOT, env=env, check=True,
    )  # fmt: skip
    env["DEBUG"] = "0"  # DEBUG would record every query in memory
    env.setdefault("SECRET_KEY", "bench-kb")
    env.setdefault("ALLOWED_HOSTS", "testserver")
    child = subprocess.run(
        [sys.executable, "-m", "bench.suites.kb"],
        cwd=dataset.ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if child.returncode != 0:
        echo(child.stdout[-3000:] + child.stderr[-5000:])
        return 1
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    targets = {
        key: {
            "value": measured[key],
            "target": limit,
            "kind": "max",
            "pass": measured[key] is not None and measured[key] <= limit,
        }
        for key, limit in TARGETS.items()
    }
    result = {
        **measured,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "targets": targets,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    for key, t in targets.items():
        echo(f"{key}: {t['value']} (target <= {t['target']}) {'PASS' if t['pass'] else 'FAIL'}")
    return 0 if all(t["pass"] for t in targets.values()) else 1


# --- the measurements, in the child process -------------------------------------------------


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _text(rng: random.Random, words: list[str], n: int) -> str:
    return " ".join(_pick(rng, words) for _ in range(n))


def seed(per_locale: int) -> tuple[Any, list[tuple[int, str]]]:
    """The tenant and (id, slug) of its published public articles. Rows are inserted in
    bulk (rendered by the same markdown module the services use) and the search vectors set
    by one UPDATE per locale: the services' per-row events and versions are not what is
    measured here."""
    from django.db import connection

    from autocrm.accounts.services import tenant_create
    from autocrm.core.actors import Actor
    from autocrm.core.tenancy import tenant_context
    from autocrm.knowledge import markdown, services
    from autocrm.knowledge.models import Article
    from autocrm.knowledge.search import config_for

    system = Actor.system("bench")
    tenant = tenant_create(actor=system, slug="kbbench", name="KB Bench")
    rng = random.Random(13)  # noqa: S311 - reproducible data, not secrets
    with tenant_context(tenant):
        categories = [
            services.category_create(tenant=tenant, actor=system, name=f"Topic {i}")
            for i in range(12)
        ]
        rows = []
        for locale in LOCALES:
            words = vocabulary(locale)
            for i in range(per_locale):
                title = f"{_text(rng, words, 5).capitalize()} {i}"
                body = (
                    f"{_text(rng, words, 60)}.\n\n1. **{_text(rng, words, 3)}**\n"
                    f"2. {_text(rng, words, 12)}\n\n!!! tip\n    {_text(rng, words, 15)}\n\n"
                    f"```sh\nacme {_pick(rng, words)} --now\n```\n\n{_text(rng, words, 120)}.\n"
                )
                html = markdown.render(body)
                roll = rng.random()
                rows.append(
                    Article(
                        tenant=tenant,
                        locale=locale,
                        title=title,
                        slug=f"article-{locale}-{i}",
                        body=body,
                        body_html=html,
                        body_text=markdown.html_to_text(html),
                        state="draft" if roll < 0.10 else "published",
                        visibility="internal" if 0.10 <= roll < 0.15 else "public",
                        category=categories[i % len(categories)],
                        view_count=rng.randint(0, 5000),
                    )
                )
        Article.objects.bulk_create(rows, batch_size=1000)
        with connection.cursor() as cursor:
            for locale in LOCALES:
                cursor.execute(
                    "UPDATE knowledge_article SET search_vector = "
                    "setweight(to_tsvector(%s::regconfig, title), 'A') || "
                    "setweight(to_tsvector(%s::regconfig, body_text), 'B') "
                    "WHERE tenant_id = %s AND locale = %s",
                    [config_for(locale), config_for(locale), tenant.pk, locale],
                )
            cursor.execute("ANALYZE knowledge_article")
        published = list(
            Article.objects.filter(state="published", visibility="public").values_list("pk", "slug")
        )
    return tenant, published


@dataclass
class Samples:
    """Per request: wall time, this process's CPU time and the database backends' CPU time
    (ms). On a loaded machine the wall time includes waiting for a core; the CPU times do
    not, and they show where the work goes."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    db_cpu: list[float] = field(default_factory=list)


def _backends() -> list[Path]:
    """The schedstat files of the PostgreSQL backends serving the bench database (their
    process title names it; the connection pool may hold several)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and f" {DB_NAME} ".encode() in title:
            found.append(proc / "schedstat")
    return found


def _cpu_ns(files: list[Path]) -> int:
    total = 0
    for f in files:
        try:  # the first field: nanoseconds spent on a CPU
            total += int(f.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def _timed(samples: Samples, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    backends = _backends()
    d0 = _cpu_ns(backends)
    t0, c0 = time.perf_counter(), time.process_time()
    result = call(*args, **kwargs)
    samples.cpu.append((time.process_time() - c0) * 1000)
    samples.wall.append((time.perf_counter() - t0) * 1000)
    samples.db_cpu.append((_cpu_ns(backends) - d0) / 1e6)
    return result


def _seeded() -> tuple[Any, list[tuple[int, str]]] | None:
    """The bench tenant and its published public articles when a previous run seeded them."""
    from autocrm.core.models import Tenant
    from autocrm.core.tenancy import tenant_context
    from autocrm.knowledge.models import Article

    tenant = Tenant.objects.filter(slug="kbbench").first()
    if tenant is None:
        return None
    with tenant_context(tenant):
        published = list(
            Article.objects.filter(state="published", visibility="public").values_list("pk", "slug")
        )
    return tenant, published


def measure() -> dict[str, Any]:
    _setup()
    from django.test import Client

    from autocrm.core.actors import Actor
    from autocrm.core.tenancy import tenant_context
    from autocrm.knowledge import selectors

    per_locale = int(os.environ.get("BENCH_KB_ARTICLES", "5000"))
    t0 = time.perf_counter()
    reused = _seeded() if os.environ.get("BENCH_KB_REUSE") == "1" else None
    tenant, published = reused or seed(per_locale)
    seed_s = round(time.perf_counter() - t0, 1)
    rng = random.Random(7)  # noqa: S311
    client = Client()
    # What readers type: one or two words, common topic words and rarer ones alike.
    queries = [
        (locale, " ".join(_pick(rng, vocabulary(locale)) for _ in range(rng.choice((1, 2)))))
        for locale in LOCALES
        for _ in range(40)
    ]
    # Misspelt: one letter of a tail word (found in bodies more than titles) dropped.
    typos = [(locale, _misspelt(rng, _pick(rng, vocabulary(locale)[40:]))) for locale, _ in queries]
    home, article, search_page, search = Samples(), Samples(), Samples(), Samples()
    typo, typo_found = Samples(), 0
    visitor = Actor(user=None, role="visitor", label="visitor:bench")
    statuses: set[int] = set()
    for i in range(SAMPLES + 30):
        locale, q = queries[i % len(queries)]
        pk, slug = rng.choice(published)
        home_url = f"/kbbench/help/?locale={locale}"
        statuses.add(_timed(home, client.get, home_url).status_code)
        article_url = f"/kbbench/help/articles/{pk}-{slug}/"
        statuses.add(_timed(article, client.get, article_url).status_code)
        page = _timed(search_page, client.get, "/kbbench/help/search", {"q": q, "locale": locale})
        statuses.add(page.status_code)
        with tenant_context(tenant):
            _timed(
                search,
                selectors.article_search,
                tenant=tenant,
                actor=visitor,
                q=q,
                locale=locale,
                audience="public",
            )
            typo_locale, typo_q = typos[i % len(typos)]
            found = _timed(
                typo,
                selectors.article_search,
                tenant=tenant,
                actor=visitor,
                q=typo_q,
                locale=typo_locale,
                audience="public",
            )
            typo_found += bool(found.items)
    if statuses != {200}:
        raise RuntimeError(f"unexpected statuses {statuses}")
    with tenant_context(tenant):
        hits = selectors.article_search(
            tenant=tenant, actor=visitor, q=queries[0][1], locale=queries[0][0]
        )
    return {
        "articles_per_locale": per_locale,
        "locales": list(LOCALES),
        "rows": per_locale * len(LOCALES),
        "seed_s": seed_s,
        "samples": SAMPLES,
        "example_query": queries[0][1],
        "example_hits": len(hits.items),
        **_summary("help_home", home),
        **_summary("article_page", article),
        **_summary("search_page", search_page),
        **_summary("kb_search", search),
        "example_typo": typos[0][1],
        **_summary("kb_search_typo", typo),
        "kb_search_typo_found_share": round(typo_found / (SAMPLES + 30), 3),
    }


def _misspelt(rng: random.Random, word: str) -> str:
    at = rng.randrange(1, len(word) - 1)
    return word[:at] + word[at + 1 :]


def _summary(name: str, samples: Samples) -> dict[str, float]:
    # The first 30 are warm-up. CPU: python = this process, db = the database backends.
    wall, cpu, db = samples.wall[30:], samples.cpu[30:], samples.db_cpu[30:]
    return {
        f"{name}_p95_ms": p95(wall),
        f"{name}_p50_ms": round(statistics.median(wall), 3),
        f"{name}_python_cpu_p50_ms": round(statistics.median(cpu), 3),
        f"{name}_db_cpu_p50_ms": round(statistics.median(db), 3),
        f"{name}_cpu_p50_ms": round(
            statistics.median([a + b for a, b in zip(cpu, db, strict=True)]), 3
        ),
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
