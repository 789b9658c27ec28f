#!/usr/bin/env python
"""Django's command-line entry point for the control plane."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    from django.core.management import execute_from_command_line

    from controlplane.cli import redis_down_message

    try:
        execute_from_command_line(sys.argv)
    except Exception as exc:
        message = redis_down_message(exc)
        if message is None:
            raise
        sys.stderr.write(message + "\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
