"""What the bench scripts share: the repository on sys.path, Django on a throwaway SQLite, the command
line, and how figures are timed and printed. Scripts import it first (`from common import ...`: bench/ is
on sys.path when a script runs), so `bench.*`, `tests.*` and the product import after it."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def options(doc: str, **defaults: int | float | bool) -> argparse.Namespace:
    """The script's command line: `keys=200_000` is `--keys N` (typed like its default), `profile=False` a flag;
    the description is the docstring's first line (the docstring shows the usage)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in defaults.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(default, bool):
            parser.add_argument(flag, action="store_true")
        else:
            parser.add_argument(flag, type=type(default), default=default)
    return parser.parse_args()


def setup_django(workdir: Path, broker_url: str | None = None) -> None:
    """Django on a SQLite file in `workdir`, reconciles left to the script ("manual"), test-only secrets.
    With `broker_url` (a throwaway redis-server) locks, Channels and Celery use it; without, nothing is
    published (no dashboards listen)."""
    os.environ.update({
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "CONTROLPLANE_VAR_DIR": str(workdir / "var"),
        "CONTROLPLANE_RECONCILE_MODE": "manual",
        "CONTROLPLANE_LOG_LEVEL": "WARNING",
        **({"REDIS_URL": broker_url} if broker_url else {}),
    })
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")  # test-only secrets
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    if broker_url is None:
        settings.CHANNEL_LAYERS = {}
    call_command("migrate", verbosity=0)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def report(label: str, samples: list[float]) -> None:
    samples_ms = sorted(s * 1000 for s in samples)
    p95 = samples_ms[int(len(samples_ms) * 0.95) - 1] if len(samples_ms) > 1 else samples_ms[0]
    print(f"{label:<44} n={len(samples_ms):<5} median {statistics.median(samples_ms):7.2f} ms   "
          f"p95 {p95:7.2f} ms   total {sum(samples_ms) / 1000:6.2f} s")
