"""``make run``'s supervisor, run for real: embedded PostgreSQL, migrations, demo data, web
and worker on a free port with a private AUTOCRM_VAR_DIR; stopped by a signal, and stopped
when one of its children dies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from autocrm.core import embedded_db

BASE_DIR = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def var_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are 0700, and as root the embedded PostgreSQL runs
    # as the system user "pgserver", which must reach the data directory.
    path = Path(tempfile.mkdtemp(prefix="autocrm-devserver-"))
    path.chmod(0o755)
    yield path
    embedded_db.server_down(path / "pg")
    shutil.rmtree(path, ignore_errors=True)


class Run:
    def __init__(self, var_dir: Path, port: int) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "DATABASE_OWNER_URL", "DEBUG", "SECRET_KEY"}
        }
        env.update(
            AUTOCRM_VAR_DIR=str(var_dir),
            PORT=str(port),
            LOG_LEVEL="WARNING",
            AUTOCRM_ENV_FILE=str(var_dir / "no.env"),  # a developer's .env must not apply
        )
        self.port = port
        self.env = env
        self.log = var_dir / f"run-{time.monotonic_ns()}.log"
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autocrm.devserver"],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command typed in a second terminal: no DEBUG, no SECRET_KEY but the env file's."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        url = f"http://127.0.0.1:{self.port}{path}"
        request = urllib.request.Request(url, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    # A new data directory is migrated and seeded first: under `make test` that shares the
    # machine with every other test worker, and took over 45 s on a loaded 2-core machine.
    def wait_healthy(self, timeout: float = 150) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"supervisor exited:\n{self.output()}"
            try:
                status, body = self.get("/healthz")
            except OSError:
                time.sleep(0.3)
                continue
            health = json.loads(body)
            if status == 200 and health["worker"] == "ok":
                return dict(health)
            time.sleep(0.3)
        raise AssertionError(f"not healthy within {timeout}s:\n{self.output()}")

    def children(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(pid) for pid in out.split()]

    def finish(self, timeout: float = 30) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self._log_file.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        Path(f"/proc/{pid}").exists()
        and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    )


@pytest.mark.slow
def test_run_stops_cleanly_on_sigint_reuses_its_data_and_stops_when_a_child_dies(
    var_dir: Path,
) -> None:
    first = Run(var_dir, free_port())
    try:
        assert first.wait_healthy() == {"status": "ok", "database": "ok", "worker": "ok"}
        children = first.children()
        assert len(children) == 2  # web and worker
        postmaster_pid = int((var_dir / "pg" / "postmaster.pid").read_text().split()[0])
        # README's API example, verbatim but for the port: the command signs with the key
        # make run generated into the env file, and the key it prints works on the server.
        created = first.manage("apikey_create", "--tenant", "demo", "--name", "curl")
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip()
        status, _ = first.get("/api/v1/tickets", {"Authorization": f"Bearer {key}"})
        assert status == 200
        first.process.send_signal(signal.SIGINT)
    finally:
        code = first.finish()
    output = first.output()
    assert code == 0, output
    assert "(new)" in output and "Demo data created" in output and "stopped cleanly" in output
    assert f"Sign in at http://127.0.0.1:{first.port}/accounts/login/" in output  # SITE_URL
    assert "generated a SECRET_KEY" in output
    assert not any(alive(pid) for pid in [*children, postmaster_pid]), output
    assert not (var_dir / "pg" / "postmaster.pid").exists()

    # A second run reuses the data; when its worker dies, everything stops with the reason.
    second = Run(var_dir, free_port())
    try:
        second.wait_healthy()
        cmdlines = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in second.children()}
        worker = next(pid for pid, cmd in cmdlines.items() if b"procrastinate" in cmd)
        web = next(pid for pid, cmd in cmdlines.items() if b"uvicorn" in cmd)
        os.kill(worker, signal.SIGKILL)
    finally:
        code = second.finish()
    output = second.output()
    assert "(existing data)" in output and "nothing changed" in output, output
    assert "generated a SECRET_KEY" not in output  # the first run's key is reused
    assert (var_dir / "no.env").read_text().count("SECRET_KEY=") == 1
    assert code == 1, output
    assert "worker exited unexpectedly with status -9" in output
    assert not alive(web)
    assert not (var_dir / "pg" / "postmaster.pid").exists()


def test_collectstatic_works_with_debug_off(tmp_path: Path) -> None:
    """What `make run` does instead of relying on whitenoise's finders when DEBUG is off."""
    from django.conf import settings
    from django.core.management import call_command
    from django.test import override_settings

    assert not settings.DEBUG
    with override_settings(STATIC_ROOT=tmp_path):
        call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "vendor" / "htmx" / "htmx.min.js").is_file()
    assert (tmp_path / "vendor" / "htmx" / "htmx.min.js.gz").is_file()  # whitenoise compressed
    assert (tmp_path / "css" / "app.css").is_file()
