#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    # The same .env as `make run` (never overriding the environment); DEBUG stays off
    # unless set: see autocrm/envfile.py.
    from autocrm.envfile import load_env_file

    load_env_file()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
