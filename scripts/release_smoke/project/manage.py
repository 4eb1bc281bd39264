#!/usr/bin/env python
"""The smoke project's manage.py (scripts/release_smoke/worker_check.py copies the project to a temporary folder)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smokeproj.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
