"""`manage.py watch_targets`: follow every Kubernetes target's API server until stopped.

REC/REDB custom resources made, changed or deleted with kubectl are taken in through the one
validator as they happen, and an out-of-band change to an object the control plane owns asks for a
reconcile of its owner at once. Independent of Celery: with CONTROLPLANE_RECONCILE_MODE=inline it
reconciles in this process. Targets added, removed or reconnected are picked up every `--refresh`
seconds. `make run` starts it.
"""
from __future__ import annotations

import signal
import threading
from pathlib import Path

from django.core.management.base import BaseCommand

from kube.crsync.watch import TargetWatcher
from targets.models import Target


class Command(BaseCommand):
    help = "Watch every Kubernetes target: REC/REDB custom resources and the objects the control plane owns."

    def add_arguments(self, parser):
        parser.add_argument("--refresh", type=float, default=30.0, help="seconds between looks at the target list")
        parser.add_argument("--heartbeat", help="a file touched at every look (for a liveness probe)")

    def handle(self, *args, refresh: float, heartbeat: str | None, **options):
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        watchers: dict[int, tuple[tuple, TargetWatcher]] = {}
        while not stop.is_set():
            targets = {t.pk: t for t in Target.objects.filter(kind=Target.KUBERNETES)}
            for pk in list(watchers):
                version, watcher = watchers[pk]
                if pk not in targets or _version(targets[pk]) != version:
                    watcher.close(timeout=1)
                    del watchers[pk]
                    self.stdout.write(f"stopped watching target {watcher.target.name}")
            for pk, target in targets.items():
                if pk not in watchers:
                    watchers[pk] = (_version(target), TargetWatcher(target).start())
                    self.stdout.write(f"watching target {target.name}")
            if heartbeat:
                Path(heartbeat).touch()
            stop.wait(max(refresh, 0.1))
        for _, watcher in watchers.values():
            watcher.close(timeout=1)


def _version(target: Target) -> tuple:
    return (repr(sorted((target.settings or {}).items())), target.kubeconfig_sealed)
