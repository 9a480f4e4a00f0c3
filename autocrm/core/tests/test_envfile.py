"""The local .env file: read by make run, manage.py and ``python -m autocrm``; a development
SECRET_KEY generated into it once, so commands typed after ``make run`` work as written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from autocrm import devserver
from autocrm.envfile import ensure_secret_key, load_env_file

BASE_DIR = Path(__file__).resolve().parents[3]


@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "test.env"
    monkeypatch.setenv("AUTOCRM_ENV_FILE", str(path))
    for name in ("SECRET_KEY", "DEBUG", "AUTOCRM_ENVFILE_PROBE"):
        monkeypatch.delenv(name, raising=False)  # restored after the test
    return path


def test_the_file_never_overrides_the_environment(
    env_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file.write_text("SECRET_KEY=from-file\nAUTOCRM_ENVFILE_PROBE=from-file\n")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert load_env_file() == env_file
    assert os.environ["SECRET_KEY"] == "from-env"
    assert os.environ["AUTOCRM_ENVFILE_PROBE"] == "from-file"


def test_no_file_is_not_an_error(env_file: Path) -> None:
    assert load_env_file() is None
    assert "AUTOCRM_ENVFILE_PROBE" not in os.environ


def test_a_generated_key_is_private_random_and_appended_once(env_file: Path) -> None:
    env_file.write_text("DEBUG=1")  # a user's file without a final newline
    assert ensure_secret_key() == env_file
    key = os.environ["SECRET_KEY"]
    assert len(key) >= 50
    lines = env_file.read_text().splitlines()
    assert lines[0] == "DEBUG=1" and f"SECRET_KEY={key}" in lines
    # A second call (the key now in the environment) writes nothing.
    assert ensure_secret_key() is None
    assert env_file.read_text().count("SECRET_KEY=") == 1

    env_file.unlink()
    del os.environ["SECRET_KEY"]
    ensure_secret_key()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert os.environ["SECRET_KEY"] != key


def test_make_run_generates_a_key_in_development_only(
    env_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEBUG", "0")
    devserver.load_environment()
    assert "SECRET_KEY" not in os.environ and not env_file.exists()

    monkeypatch.delenv("DEBUG")
    devserver.load_environment()
    assert os.environ["DEBUG"] == "1"
    assert f"SECRET_KEY={os.environ['SECRET_KEY']}" in env_file.read_text()

    # The next run reads the same key back instead of making another.
    monkeypatch.delenv("SECRET_KEY")
    devserver.load_environment()
    assert env_file.read_text().count("SECRET_KEY=") == 1


def _command(argv: list[str], env_file: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env["AUTOCRM_ENV_FILE"] = str(env_file)
    return subprocess.run(
        argv, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    "argv",
    [[sys.executable, "manage.py", "check"], [sys.executable, "-m", "autocrm", "check"]],
    ids=["manage.py", "python -m autocrm"],
)
def test_commands_read_the_key_from_the_file_with_debug_off(
    env_file: Path, argv: list[str]
) -> None:
    refused = _command(argv, env_file)
    assert refused.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in refused.stderr

    env_file.write_text("SECRET_KEY=only-in-the-file\n")
    done = _command(argv, env_file)
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout
