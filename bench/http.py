"""The API over real HTTP: uvicorn on a free local port, keep-alive HTTP/1.1 clients.

The load generator runs on the same two cores as the server and the database, so it uses
the standard library's http.client (about a tenth of httpx's CPU per request): what is
measured is the server, not the client."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from bench.dataset import ROOT, child_env
from bench.stats import measure, summary

UVICORN_WORKERS = 2  # one per core of the benchmark machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def _postgres_cpu() -> float:
    """CPU seconds of the whole embedded server: live processes plus the exited children
    the postmaster has reaped (connections that closed), i.e. every database on it."""
    from autocrm.core.embedded_db import default_data_dir

    postmaster = int((default_data_dir() / "postmaster.pid").read_text().split()[0])
    try:
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # incl. reaped children
    return own + sum(_proc_cpu(p) for p in _children(postmaster))


class CpuMeter:
    """CPU seconds of the server (uvicorn and its workers) and of PostgreSQL, so a request's
    cost can be stated apart from machine load."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    def sample(self) -> tuple[float, float]:
        server = sum(_proc_cpu(p) for p in [self.server_pid, *_children(self.server_pid)])
        return server, _postgres_cpu()


SERVER_PIDS: dict[str, int] = {}


@contextmanager
def uvicorn_server(workers: int = UVICORN_WORKERS) -> Iterator[str]:
    """A production-like server (DEBUG off, no autoreload); yields its base URL."""
    port = free_port()
    env = child_env(
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        # The create benchmark sends thousands of requests a minute with one key: the
        # limiter still counts every request (its cost is measured), it just never refuses.
        API_RATE_LIMIT_PER_MINUTE="100000000",
    )
    log = Path(ROOT / "var" / "bench-uvicorn.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                str(ROOT / ".venv" / "bin" / "uvicorn"),
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        SERVER_PIDS[base] = proc.pid
        try:
            deadline = time.monotonic() + 180  # two workers importing Django on a busy host
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"uvicorn exited with {proc.returncode}; see {log}")
                try:
                    httpx.get(f"{base}/healthz", timeout=1.0)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"uvicorn did not start; see {log}") from None
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class KeepAliveClient:
    """One persistent connection; reconnects if the server closed it."""

    def __init__(self, base: str, key: str | None, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        auth = _auth(key) if key is not None else {}
        self.headers = {**auth, **(headers or {}), "Accept": "application/json"}
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> tuple[int, bytes]:
        if params:
            path = f"{path}?{urlencode(params)}"
        payload = None if body is None else json.dumps(body).encode()
        headers = dict(self.headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def routes_available(base: str, key: str) -> bool:
    response = httpx.get(
        f"{base}/api/v1/tickets", params={"limit": 1}, headers=_auth(key), timeout=30
    )
    return response.status_code == 200


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def list_latency(
    base: str,
    key: str | None,
    *,
    warmup: int,
    iterations: int,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``GET /api/v1/tickets?status=open``: one keep-alive client, sequential requests,
    with the API ``key`` or (``key`` None) the session cookie and X-Tenant in ``headers``."""
    rows: list[int] = []
    client = KeepAliveClient(base, key, headers)
    try:

        def call() -> None:
            status, content = client.request("GET", "/api/v1/tickets", params={"status": "open"})
            if status != 200:
                raise RuntimeError(f"GET /api/v1/tickets answered {status}: {content[:200]!r}")
            rows.append(len(json.loads(content)["items"]))

        for _ in range(warmup):
            call()
        meter = CpuMeter(SERVER_PIDS[base])
        server0, db0 = meter.sample()
        samples = measure(call, warmup=0, iterations=iterations)
        server1, db1 = meter.sample()
    finally:
        client.close()
    return {
        **summary(samples),
        "rows_per_page": max(rows) if rows else 0,
        "server_cpu_ms_per_request": round((server1 - server0) / iterations * 1000, 2),
        "postgres_cpu_ms_per_request": round((db1 - db0) / iterations * 1000, 2),
    }


def create_throughput(
    base: str,
    key: str,
    *,
    clients: int,
    seconds: float,
    requesters: int = 500,
    window_seconds: float = 10.0,
) -> dict[str, Any]:
    """``POST /api/v1/tickets`` from ``clients`` threads for ``seconds``: created/s over the
    whole run, and per ``window_seconds`` to show whether the rate held."""
    stop_at = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    finished_at: list[list[float]] = [[] for _ in range(clients)]
    errors: list[dict[str, int]] = [{} for _ in range(clients)]

    def worker(index: int) -> None:
        n = 0
        client = KeepAliveClient(base, key)
        try:
            while time.monotonic() < stop_at:
                n += 1
                body = {
                    "subject": f"Benchmark order {index}-{n} cannot be delivered",
                    "body": "Hello, my order did not arrive and the tracking page shows no "
                    f"update since last week. Reference {index}-{n}. Thanks for your help.",
                    "requester_email": f"bench-client-{(index * 7919 + n) % requesters}"
                    "@customers.example",
                }
                t0 = time.perf_counter()
                status, _content = client.request("POST", "/api/v1/tickets", body=body)
                took = (time.perf_counter() - t0) * 1000.0
                if status == 201:
                    latencies[index].append(took)
                    finished_at[index].append(time.monotonic())
                else:
                    code = str(status)
                    errors[index][code] = errors[index].get(code, 0) + 1
        finally:
            client.close()

    meter = CpuMeter(SERVER_PIDS[base])
    server0, db0 = meter.sample()
    client0 = time.process_time()
    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    server1, db1 = meter.sample()
    client_cpu = time.process_time() - client0
    all_latencies = [ms for per_client in latencies for ms in per_client]
    # Whole windows; the last one also takes the few milliseconds after its end.
    windows = [0] * max(1, round(elapsed / window_seconds))
    for moments in finished_at:
        for moment in moments:
            windows[min(len(windows) - 1, int((moment - started) // window_seconds))] += 1
    last = elapsed - (len(windows) - 1) * window_seconds
    merged: dict[str, int] = {}
    for per_client in errors:
        for code, count in per_client.items():
            merged[code] = merged.get(code, 0) + count
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "created": len(all_latencies),
        "errors": merged,
        "tickets_per_second": round(len(all_latencies) / elapsed, 1),
        "per_window": {
            "seconds": window_seconds,
            "tickets_per_second": [
                round(count / (window_seconds if i < len(windows) - 1 else last), 1)
                for i, count in enumerate(windows)
            ],
        },
        "latency": summary(all_latencies),
        "server_cpu_ms_per_request": round(
            (server1 - server0) / max(1, len(all_latencies)) * 1000, 2
        ),
        "postgres_cpu_ms_per_request": round((db1 - db0) / max(1, len(all_latencies)) * 1000, 2),
        "client_cpu_ms_per_request": round(client_cpu / max(1, len(all_latencies)) * 1000, 2),
    }


def statements_per_request(get: Any) -> list[str]:
    """The statements one request sent on the application's connection (Django's and the
    prepared ones of autocrm.core.sql), run in this process through Django's test client
    with the server's settings. The rate limiter's counter runs on a connection of its own
    (one statement, for keys and sessions alike) and is not counted."""
    from autocrm.testing.queries import all_statements

    with all_statements() as sent:
        response = get()
    if response.status_code != 200:
        raise RuntimeError(f"GET /api/v1/tickets answered {response.status_code}")
    return sent
