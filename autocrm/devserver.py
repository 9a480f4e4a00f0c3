"""``make run``: the whole product on one machine, supervised.

Steps: load ``.env`` (or ``$AUTOCRM_ENV_FILE``); DEBUG defaults to 1 (and then a missing
SECRET_KEY is generated into that file); without DATABASE_URL
start the embedded PostgreSQL (data in ``$AUTOCRM_VAR_DIR/pg``, kept between runs) and
provision its roles; migrate;
collectstatic when DEBUG is off; ``seed_demo`` when DEBUG is on; then run the web server
(uvicorn) and the worker (procrastinate) as children, their output prefixed and streamed.

Ctrl-C or SIGTERM stops both children, then the embedded PostgreSQL, and exits 0. If a child
dies on its own, everything is stopped and the exit status is 1, with the reason printed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import IO

from autocrm.envfile import ensure_secret_key, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 15.0  # seconds a child gets to stop before it is killed
_PR_SET_PDEATHSIG = 1


class StepFailed(Exception):
    """A preparation step (migrate, seed...) failed; the message says which."""


def say(message: str) -> None:
    print(f"[autocrm] {message}", flush=True)


def _die_with_parent() -> None:
    """Children run in their own process group (so a terminal Ctrl-C reaches only the
    supervisor, which then stops them in order); the kernel still kills them if the
    supervisor itself is killed."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: best effort only
        pass


def _pump(stream: IO[bytes], prefix: str) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        sys.stdout.write(f"{prefix} | {line}\n")
        sys.stdout.flush()
    stream.close()


class Child:
    """One supervised process with its output streamed line by line under a prefix."""

    def __init__(self, name: str, argv: Sequence[str]) -> None:
        self.name = name
        self.argv = list(argv)
        self.process: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            self.argv,
            cwd=BASE_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        assert self.process.stdout is not None
        self._pump = threading.Thread(
            target=_pump, args=(self.process.stdout, self.name), daemon=True
        )
        self._pump.start()

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                say(f"{self.name} did not stop within {STOP_TIMEOUT:.0f}s; killing it")
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._pump is not None:
            self._pump.join(timeout=5)


def manage(*args: str) -> list[str]:
    return [sys.executable, str(BASE_DIR / "manage.py"), *args]


def run_step(title: str, argv: Sequence[str]) -> None:
    """Run one preparation command to its end (in its own process group, so a Ctrl-C
    stops the supervisor after the step instead of interrupting a migration half way)."""
    say(title)
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        argv, cwd=BASE_DIR, check=False, start_new_session=True, preexec_fn=_die_with_parent
    )
    if result.returncode != 0:
        raise StepFailed(f"{title} failed (exit {result.returncode})")


def load_environment() -> None:
    """``.env`` first (it never overrides the real environment), then dev defaults: DEBUG
    on and, in development only, a generated SECRET_KEY saved to ``.env`` (see
    autocrm/envfile.py) so that ``manage.py`` commands run later sign with the same key."""
    load_env_file()
    os.environ.setdefault("DEBUG", "1")
    if is_debug():
        written = ensure_secret_key()
        if written is not None:
            say(f"generated a SECRET_KEY for development into {written}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["PYTHONUNBUFFERED"] = "1"


def is_debug() -> bool:
    return os.environ.get("DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}


class Supervisor:
    def __init__(self) -> None:
        self.stop_requested: str | None = None
        self.children: list[Child] = []
        self.embedded_dir: Path | None = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requested = signal.Signals(signum).name

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _check_stop(self) -> None:
        if self.stop_requested:
            raise KeyboardInterrupt

    def start_database(self) -> None:
        if os.environ.get("DATABASE_URL"):
            say("using the PostgreSQL server of DATABASE_URL")
            return
        from autocrm.core import embedded_db

        data_dir = embedded_db.default_data_dir()
        dbname = os.environ.get("AUTOCRM_DB_NAME", "autocrm")
        reused = (data_dir / "PG_VERSION").exists()
        say(
            f"starting the embedded PostgreSQL in {data_dir}"
            + (" (existing data)" if reused else " (new)")
        )
        self.embedded_dir = data_dir
        admin_uri = embedded_db.server_up(data_dir)
        embedded_db.provision(admin_uri, dbname)

    def stop_database(self) -> None:
        if self.embedded_dir is None:
            return
        from autocrm.core import embedded_db

        say("stopping the embedded PostgreSQL")
        embedded_db.server_down(self.embedded_dir)
        self.embedded_dir = None

    def prepare(self) -> None:
        steps: list[tuple[str, list[str]]] = [
            ("applying migrations", manage("migrate", "--noinput")),
        ]
        if is_debug():
            steps.append(("loading the demo data", manage("seed_demo")))
        else:
            steps.append(("collecting static files", manage("collectstatic", "--noinput")))
        for title, argv in steps:
            self._check_stop()
            run_step(title, argv)
        if not is_debug():
            say("DEBUG is off: the demo data is not loaded (manage.py seed_demo --force)")
            if not os.environ.get("ALLOWED_HOSTS"):
                say("warning: ALLOWED_HOSTS is empty, so every request will be refused (400)")

    def start_children(self) -> None:
        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        self.children = [
            Child(
                "web",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "config.asgi:application",
                    "--host",
                    host,
                    "--port",
                    port,
                    "--lifespan",
                    "off",
                    "--no-access-log",
                ],
            ),
            Child("worker", manage("procrastinate", "worker")),
        ]
        for child in self.children:
            child.start()
        say(f"AutoCRM is starting on http://{host}:{port}/ (Ctrl-C stops everything)")

    def watch(self, poll: Callable[[], None] = lambda: time.sleep(0.2)) -> str | None:
        """Block until a signal arrives (returns None) or a child dies (returns why)."""
        while not self.stop_requested:
            for child in self.children:
                code = child.exit_code()
                if code is not None:
                    return f"{child.name} exited unexpectedly with status {code}"
            poll()
        return None

    def stop_children(self) -> None:
        for child in reversed(self.children):  # worker first: it may still use the web's data
            child.stop()

    def run(self) -> int:
        self.install_signal_handlers()
        failure: str | None = None
        try:
            self.start_database()
            self.prepare()
            self._check_stop()
            self.start_children()
            failure = self.watch()
            if failure is None:
                say(f"{self.stop_requested}: stopping")
        except KeyboardInterrupt:
            say(f"{self.stop_requested or 'interrupted'}: stopping")
        except StepFailed as exc:
            failure = str(exc)
        except Exception as exc:
            failure = f"{type(exc).__name__}: {exc}"
        finally:
            # A second Ctrl-C must not abandon the shutdown half way.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            self.stop_children()
            self.stop_database()
        if failure:
            say(f"stopped: {failure}")
            return 1
        say("stopped cleanly")
        return 0


def main() -> int:
    load_environment()
    return Supervisor().run()


if __name__ == "__main__":
    sys.exit(main())
