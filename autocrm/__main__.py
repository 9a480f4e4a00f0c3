"""``python -m autocrm <command>``: the same as ``manage.py <command>``."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.management import execute_from_command_line

execute_from_command_line([f"{sys.executable} -m autocrm", *sys.argv[1:]])
