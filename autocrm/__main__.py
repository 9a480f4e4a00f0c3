"""``python -m autocrm <command>``: the same as ``manage.py <command>`` (``.env`` included)."""

import os
import sys

from autocrm.envfile import load_env_file

load_env_file()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.management import execute_from_command_line  # noqa: E402 - after the env

execute_from_command_line([f"{sys.executable} -m autocrm", *sys.argv[1:]])
